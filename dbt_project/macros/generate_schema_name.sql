{#- Custom schemas are used as they are (raw, staging, intermediate, analytics, marts_audit,
    reference): the warehouse's schema names are its public interface. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
