{#- Whether tonight's drop carried a contract table (and, optionally, columns of it), as a
    boolean aggregate over stg_cscw__load_files aliased `load_files`: the loader records every
    contract table every night (loaded or absent) with the contract columns its file's header
    carried. Used by the *_inputs_pivoted models, so that a measure whose input is absent is
    null (not available), never zero. `any_columns`: true when the file carried at least one
    of them. -#}
{% macro drop_carries(table_name, columns=[], any_columns=[]) -%}
    coalesce(bool_or(
        load_files.table_name = '{{ table_name }}'
        and load_files.is_available
        {%- for column in columns %}
        and '{{ column }}' = any(load_files.columns_present)
        {%- endfor %}
        {%- if any_columns %}
        and load_files.columns_present && array[
            {%- for column in any_columns %}'{{ column }}'{{ ', ' if not loop.last }}{% endfor -%}
        ]::text []
        {%- endif %}
    ), false)
{%- endmacro %}
