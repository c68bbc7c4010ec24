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

{#- THE rule of a complete month (docs/measures/kpi-shape.md#complete-months), written once:
    a month is complete when as_of is on or after its last day (as_of >= month_end), so the
    month whose last day is as_of is complete and the month of any earlier as_of is not.
    `month_start` is an expression of the month's first day. kpi_months() and dim_month
    (through kpi_months()) are the only readers; every monthly mart takes the flag from one
    of them. -#}
{% macro is_complete_month(month_start) -%}
    (({{ month_start }}) + interval '1 month' - interval '1 day')::date <= {{ as_of() }}
{%- endmacro %}

{#- The calendar months of a monthly KPI mart, from the month of `first_date` (an expression,
    e.g. a scalar subquery; as_of's month when it is null) to as_of's month: one row per
    month with month_start, month_end (the month's last day, or as_of in as_of's month),
    month_last_day (the calendar month's last day) and is_complete_month
    (is_complete_month()). With `required=true` a null `first_date` gives no month at all
    (a mart that publishes nothing before its first event). -#}
{% macro kpi_months(first_date, required=false) -%}
    {%- set first = first_date if required else 'coalesce(' ~ first_date ~ ', ' ~ as_of() ~ ')' %}
    select
        month_starts.month_start::date as month_start,
        least(
            (month_starts.month_start + interval '1 month' - interval '1 day')::date,
            {{ as_of() }}
        ) as month_end,
        (month_starts.month_start + interval '1 month' - interval '1 day')::date
            as month_last_day,
        {{ is_complete_month('month_starts.month_start') }} as is_complete_month
    from generate_series(
        date_trunc('month', {{ first }}),
        date_trunc('month', {{ as_of() }}),
        interval '1 month'
    ) as month_starts (month_start)
{%- endmacro %}

{#- The period columns of the long shape for a kpi_months() relation aliased `months`, team
    'all' (until the by-team marts): team, period_type, period, period_start, period_end,
    is_complete_period, as_of. -#}
{% macro kpi_month_columns(months='months', team="'all'") -%}
    {{ team }} as team,
    'month' as period_type,
    to_char({{ months }}.month_start, 'YYYY-MM') as period,
    {{ months }}.month_start as period_start,
    {{ months }}.month_end as period_end,
    {{ months }}.is_complete_month as is_complete_period,
    {{ as_of() }} as as_of
{%- endmacro %}
