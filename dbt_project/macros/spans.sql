{#- The span convention (docs/measures/transitions-and-referrals.md#conventions), defined
    once.
    A span [start, end) is open on day d when start <= d and (end is null or d < end).
    End dates are exclusive for overlap: a span ending on d and one starting on d are
    consecutive, not overlapping. -#}
{% macro is_open_on(start_date, end_date, day) -%}
    ({{ start_date }} <= {{ day }} and ({{ end_date }} is null or {{ day }} < {{ end_date }}))
{%- endmacro %}

{#- A span seen from as_of: ends after as_of are treated as open (null). -#}
{% macro end_as_of(end_date, as_of_date) -%}
    case when {{ end_date }} > {{ as_of_date }} then null else {{ end_date }} end
{%- endmacro %}

{#- "within N months" uses calendar months and is inclusive: later_date <= d + N months. -#}
{% macro within_months(earlier_date, later_date, months) -%}
    ({{ later_date }} <= ({{ earlier_date }} + interval '{{ months }} months')::date)
{%- endmacro %}
