{#- Published. Short breaks (legal status V3/V4; version 2, section 7), which are not "looked
    after" in any other measure, reported on their own per reporting year (closing on each
    31 March up to as_of) and for the year to date at as_of, in the shared long KPI shape
    (macros/kpi.sql, docs/measures/kpi-shape.md). Plain counts, no identifiers:
    children_receiving_short_breaks - children with a short-break span open on the period's
    last day (as_of for the year to date);
    short_break_days_12m - days (nights: end exclusive) of short-break spans in the 12
    months (var short_break_lookback_months) up to and including the period's last day.
    Null (not available, never 0) when the drop did not carry ssd_cla_episodes or
    ssd_legal_status. Definitions: docs/measures/placements-and-reviews.md#short-break-kpis-mart_short_break_kpis. -#}
with

snapshot_dates as (

    select * from {{ ref('int_stability_snapshot_dates') }}
    where is_year_end or is_as_of

),

short_breaks as (

    select * from {{ ref('fct_short_breaks') }}

),

availability as (

    {{ tables_available(['ssd_cla_episodes', 'ssd_legal_status']) }}

),

periods_in_shape as (

    select
        snapshot_dates.snapshot_date,
        'all' as team,
        'reporting_year' as period_type,
        snapshot_dates.reporting_year as period,
        snapshot_dates.period_start,
        snapshot_dates.period_end,
        snapshot_dates.is_year_end as is_complete_period,
        {{ as_of() }} as as_of,
        availability.has_ssd_cla_episodes and availability.has_ssd_legal_status
            as has_short_break_inputs

    from snapshot_dates
    cross join availability

),

break_counts as (

    select
        snapshot_dates.snapshot_date,
        count(distinct short_breaks.person_id) filter (
            where {{ is_open_on(
                'short_breaks.start_date', 'short_breaks.end_date', 'snapshot_dates.snapshot_date'
            ) }}
        ) as children_receiving_short_breaks,
        -- the days of [start, end) in (snapshot - N months, snapshot]
        sum(
            greatest(
                0,
                least(
                    coalesce(short_breaks.end_date, snapshot_dates.snapshot_date + 1),
                    snapshot_dates.snapshot_date + 1
                )
                - greatest(
                    short_breaks.start_date,
                    (
                        snapshot_dates.snapshot_date
                        - interval '{{ var("short_break_lookback_months") }} months'
                    )::date + 1
                )
            )
        ) filter (where short_breaks.cla_id is not null) as short_break_days_12m

    from snapshot_dates
    left join short_breaks
        on snapshot_dates.snapshot_date >= short_breaks.start_date
    group by snapshot_dates.snapshot_date

),

counted as (

    select
        periods_in_shape.*,
        break_counts.children_receiving_short_breaks,
        break_counts.short_break_days_12m

    from periods_in_shape
    inner join break_counts on periods_in_shape.snapshot_date = break_counts.snapshot_date

),

{%- set measures = [
    {'measure': 'children_receiving_short_breaks',
     'numerator': 'children_receiving_short_breaks',
     'available': 'counted.has_short_break_inputs'},
    {'measure': 'short_break_days_12m', 'numerator': 'short_break_days_12m',
     'available': 'counted.has_short_break_inputs'},
] %}

final as (

    {{ kpi_rows(measures, from='counted') }}

)

select * from final
