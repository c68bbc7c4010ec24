{#- The code lists of the measures live in one place, seeds/code_groupings.csv (code_list,
    code, code_group, label); models read them through these macros and the GX suites
    through the {codes:<list>[:<group>]} placeholder (csc_warehouse.validate.suites).
    Never write a list of codes in SQL. -#}

{#- `x in {{ codes('placement_type', 'temporary') }}`: the codes of a list (of one group of
    it), as a subquery. -#}
{% macro codes(code_list, code_group=none) -%}
    (
        select code_groupings.code
        from {{ ref('code_groupings') }} as code_groupings
        where
            code_groupings.code_list = '{{ code_list }}'
            {%- if code_group is not none %}
                and code_groupings.code_group = '{{ code_group }}'
            {%- endif %}
    )
{%- endmacro %}

{#- The group of a code in a list; `unknown` for a null code, `other_group` for a code the
    list does not hold. -#}
{% macro code_group(code_list, code, other_group='other') -%}
    coalesce(
        (
            select code_groupings.code_group
            from {{ ref('code_groupings') }} as code_groupings
            where
                code_groupings.code_list = '{{ code_list }}'
                and code_groupings.code = {{ code }}
        ),
        case when {{ code }} is null then 'unknown' else '{{ other_group }}' end
    )
{%- endmacro %}
