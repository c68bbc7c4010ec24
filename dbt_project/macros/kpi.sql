{#- The one long shape of the published KPI marts (mart_threshold_kpis_monthly,
    mart_placement_kpis), documented in docs/measures/kpi-shape.md: one row per measure x
    team x period with

        measure, team, period_type, period, period_start, period_end, is_complete_period,
        numerator, denominator, rate, as_of

    A mart computes its counts in CTEs that carry the period columns (team, period_type,
    period, period_start, period_end, is_complete_period, as_of) and one column per count,
    then lists its measures once and lets kpi_rows() write a select per measure. -#}

{#- A share as numeric(7,4) in [0, 1]: null when the denominator is 0 or null (no cases, or
    the measure's input is not available), never a false 0. -#}
{% macro kpi_rate(numerator, denominator) -%}
    (case
        when coalesce({{ denominator }}, 0) = 0 or {{ numerator }} is null then null
        else round({{ numerator }}::numeric / {{ denominator }}, 4)
    end)::numeric(7, 4)
{%- endmacro %}

{#- The rows of a list of measures, in the shared shape (union all, one select each). Each
    measure is a dict:
        measure      its name in the mart (text)
        from         the CTE its counts are in (default: the argument `from`)
        numerator    expression of the count meeting the measure
        denominator  expression of the count the rate is over; omit it for a plain count
                     (then denominator and rate are null and numerator is the count)
        available    boolean expression: false when the drop did not carry the measure's
                     input; then numerator, denominator and rate are all null (default true)
    Counts are coalesced to 0 when available (a period with nothing dated counts 0). -#}
{% macro kpi_rows(measures, from=none) -%}
    {%- for m in measures %}
        {%- set source = m.get('from', from) %}
        {%- set available = m.get('available', 'true') %}
        {%- set numerator = 'coalesce(' ~ source ~ '.' ~ m.numerator ~ ', 0)' %}
        {%- set denominator = ('coalesce(' ~ source ~ '.' ~ m.denominator ~ ', 0)')
            if m.get('denominator') else none %}
    select
        '{{ m.measure }}'::text as measure,
        {{ source }}.team::text as team,
        {{ source }}.period_type::text as period_type,
        {{ source }}.period::text as period,
        {{ source }}.period_start::date as period_start,
        {{ source }}.period_end::date as period_end,
        {{ source }}.is_complete_period::boolean as is_complete_period,
        (case when {{ available }} then {{ numerator }} end)::integer as numerator,
        {% if denominator is not none -%}
        (case when {{ available }} then {{ denominator }} end)::integer as denominator,
        (case when {{ available }} then {{ kpi_rate(numerator, denominator) }} end)::numeric(7, 4)
            as rate,
        {%- else -%}
        null::integer as denominator,
        null::numeric(7, 4) as rate,
        {%- endif %}
        {{ source }}.as_of::date as as_of
    from {{ source }}
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The calendar months of a monthly KPI mart, from the month of `first_date` (an expression,
    e.g. a scalar subquery; as_of's month when it is null) to as_of's month: one row per
    month with month_start and month_end (the month's last day, or as_of in as_of's month). -#}
{% macro kpi_months(first_date) -%}
    select
        month_starts.month_start::date as month_start,
        least(
            (month_starts.month_start + interval '1 month' - interval '1 day')::date,
            {{ as_of() }}
        ) as month_end
    from generate_series(
        date_trunc('month', coalesce({{ first_date }}, {{ as_of() }})),
        date_trunc('month', {{ as_of() }}),
        interval '1 month'
    ) as month_starts (month_start)
{%- endmacro %}

{#- The period columns of the long shape for a kpi_months() relation aliased `months`, team
    'all' (until the by-team marts): team, period_type, period, period_start, period_end,
    is_complete_period, as_of. -#}
{% macro kpi_month_columns(months='months') -%}
    'all' as team,
    'month' as period_type,
    to_char({{ months }}.month_start, 'YYYY-MM') as period,
    {{ months }}.month_start as period_start,
    {{ months }}.month_end as period_end,
    ({{ months }}.month_start + interval '1 month')::date <= {{ as_of() }} as is_complete_period,
    {{ as_of() }} as as_of
{%- endmacro %}
