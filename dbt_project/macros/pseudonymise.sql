{#- child_key: HMAC-SHA256 of the case-system person id, keyed with the warehouse secret
    (cscw_private.child_key, created by the loader's bootstrap). Stable across nights, not
    reversible without the key, and the key never appears in compiled SQL. -#}
{% macro child_key(person_id) -%}
    cscw_private.child_key({{ person_id }}::text)
{%- endmacro %}

{#- Age band at a date, instead of a date of birth, for published marts. -#}
{% macro age_band(date_of_birth, on_date) -%}
    case
        when {{ date_of_birth }} is null then 'unknown'
        when date_part('year', age({{ on_date }}, {{ date_of_birth }})) < 1 then 'under 1'
        when date_part('year', age({{ on_date }}, {{ date_of_birth }})) < 5 then '1-4'
        when date_part('year', age({{ on_date }}, {{ date_of_birth }})) < 10 then '5-9'
        when date_part('year', age({{ on_date }}, {{ date_of_birth }})) < 16 then '10-15'
        when date_part('year', age({{ on_date }}, {{ date_of_birth }})) < 18 then '16-17'
        else '18+'
    end
{%- endmacro %}
