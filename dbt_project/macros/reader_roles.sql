{#- on-run-start: make sure the reader roles exist, so the `grants:` config of the worklists
    (dbt_project.yml) can grant to them on the very first night, before the publish step
    has run csc_warehouse.warehouse.roles.ensure_roles (which sets their passwords and
    takes away anything it did not grant). Created as roles.py creates them: no login, no
    inherit. Concurrent dbt invocations (one per Cosmos task) may race: a role created by
    another one meanwhile is fine. -#}
{% macro create_reader_roles(roles=['cscw_bi', 'cscw_casework']) -%}
    do $$
    begin
    {%- for role in roles %}
        if not exists (select 1 from pg_roles where rolname = '{{ role }}') then
            begin
                create role {{ role }} nologin nosuperuser nocreatedb nocreaterole noinherit;
            exception when duplicate_object or unique_violation then null;
            end;
        end if;
    {%- endfor %}
    end $$
{%- endmacro %}
