{#- A share as numeric(7,4) in [0, 1]: null when the denominator is 0 or null (no cases, or
    the measure's input is not available), never a false 0. -#}
{% macro transitions_rate(numerator, denominator) -%}
    (case
        when coalesce({{ denominator }}, 0) = 0 or {{ numerator }} is null then null
        else round({{ numerator }}::numeric / {{ denominator }}, 4)
    end)::numeric(7, 4)
{%- endmacro %}
