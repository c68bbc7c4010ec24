{#- Published. Placement-stability and review KPIs per reporting year (1 April - 31 March,
    closing on each 31 March up to as_of) and for the year to date at as_of, in the shared
    long KPI shape (macros/kpi.sql, docs/measures/kpi-shape.md): numerator, denominator and
    rate. Counts only, no identifiers. A measure whose source table the drop did not carry
    is null (not available), never zero. Definitions:
    docs/measures/placements-and-reviews.md. -#}
with

snapshot_dates as (

    select * from {{ ref('int_stability_snapshot_dates') }}
    -- the reporting years (the month ends of the trend series are another mart's)
    where is_year_end or is_as_of

),

snapshots as (

    select * from {{ ref('int_cla_stability_snapshots') }}

),

periods as (

    select * from {{ ref('fct_periods_of_care') }}

),

reviews as (

    select * from {{ ref('fct_cla_reviews') }}

),

load_files as (

    select * from {{ ref('stg_cscw__load_files') }}

),

availability as (

    {#- a table is available unless the load recorded it as absent -#}
    select
        not coalesce(bool_or(not is_available) filter (
            where table_name = 'ssd_cla_placement'
        ), false) as has_placements,
        not coalesce(bool_or(not is_available) filter (
            where table_name = 'ssd_cla_reviews'
        ), false) as has_reviews

    from load_files

),

sgo_exits as (

    select
        periods.*,
        lead(periods.sgo_breakdown_within_1m) over (
            partition by periods.person_id order by periods.period_of_care_number
        ) as broke_down_within_1m

    from periods

),

periods_in_shape as (

    {#- the reporting years in the shared shape's period columns (team: 'all' until the
        by-team marts) -#}
    select
        snapshot_dates.snapshot_date,
        'all' as team,
        'reporting_year' as period_type,
        snapshot_dates.reporting_year as period,
        snapshot_dates.period_start,
        snapshot_dates.period_end,
        snapshot_dates.is_year_end as is_complete_period,
        {{ as_of() }} as as_of,
        availability.has_placements,
        availability.has_reviews

    from snapshot_dates
    cross join availability

),

snapshot_counts as (

    select
        snapshot_dates.snapshot_date,
        count(*) filter (where snapshots.has_3plus_placements_12m) as three_plus_placements,
        count(snapshots.person_id) as looked_after,
        count(*) filter (where snapshots.long_term_stable) as long_term_stable,
        count(*) filter (where snapshots.in_long_term_denominator) as long_term_denominator,
        count(*) filter (
            where snapshot_periods.is_second_or_subsequent_period
        ) as looked_after_second_or_later_period

    from snapshot_dates
    left join snapshots
        on snapshot_dates.snapshot_date = snapshots.snapshot_date
    left join periods as snapshot_periods
        on snapshots.cla_id = snapshot_periods.cla_id
    group by snapshot_dates.snapshot_date

),

period_counts as (

    select
        snapshot_dates.snapshot_date,
        count(*) filter (where periods.second_period_within_12m) as second_periods_within_12m,
        count(*) filter (
            where periods.is_second_or_subsequent_period
        ) as second_or_later_periods_started,
        count(periods.cla_id) as periods_started

    from snapshot_dates
    left join periods
        on periods.start_date between snapshot_dates.period_start and snapshot_dates.period_end
    group by snapshot_dates.snapshot_date

),

sgo_counts as (

    select
        snapshot_dates.snapshot_date,
        count(*) filter (where sgo_exits.broke_down_within_1m) as sgo_breakdowns,
        count(sgo_exits.cla_id) as sgo_exits

    from snapshot_dates
    left join sgo_exits
        on
            sgo_exits.ended_with_sgo
            and sgo_exits.end_date between snapshot_dates.period_start and snapshot_dates.period_end
    group by snapshot_dates.snapshot_date

),

review_counts as (

    select
        snapshot_dates.snapshot_date,
        count(*) filter (where reviews.on_time) as reviews_on_time,
        count(reviews.cla_id) as reviews_due

    from snapshot_dates
    left join reviews
        on reviews.due_date between snapshot_dates.period_start and snapshot_dates.period_end
    group by snapshot_dates.snapshot_date

),

counted as (

    select
        periods_in_shape.*,
        snapshot_counts.three_plus_placements,
        snapshot_counts.looked_after,
        snapshot_counts.long_term_stable,
        snapshot_counts.long_term_denominator,
        snapshot_counts.looked_after_second_or_later_period,
        period_counts.second_periods_within_12m,
        period_counts.second_or_later_periods_started,
        period_counts.periods_started,
        sgo_counts.sgo_breakdowns,
        sgo_counts.sgo_exits,
        review_counts.reviews_on_time,
        review_counts.reviews_due

    from periods_in_shape
    inner join snapshot_counts on periods_in_shape.snapshot_date = snapshot_counts.snapshot_date
    inner join period_counts on periods_in_shape.snapshot_date = period_counts.snapshot_date
    inner join sgo_counts on periods_in_shape.snapshot_date = sgo_counts.snapshot_date
    inner join review_counts on periods_in_shape.snapshot_date = review_counts.snapshot_date

),

{#- the measures, each written once: its name, its counts and the input it needs -#}
{%- set measures = [
    {'measure': 'three_plus_placements_12m', 'numerator': 'three_plus_placements',
     'denominator': 'looked_after', 'available': 'counted.has_placements'},
    {'measure': 'long_term_stability', 'numerator': 'long_term_stable',
     'denominator': 'long_term_denominator', 'available': 'counted.has_placements'},
    {'measure': 'second_period_within_12m', 'numerator': 'second_periods_within_12m',
     'denominator': 'periods_started'},
    {'measure': 'second_or_later_period_looked_after',
     'numerator': 'looked_after_second_or_later_period', 'denominator': 'looked_after'},
    {'measure': 'second_or_later_period_started', 'numerator': 'second_or_later_periods_started',
     'denominator': 'periods_started'},
    {'measure': 'sgo_breakdown_within_1m', 'numerator': 'sgo_breakdowns',
     'denominator': 'sgo_exits'},
    {'measure': 'reviews_on_time', 'numerator': 'reviews_on_time',
     'denominator': 'reviews_due', 'available': 'counted.has_reviews'},
] %}

final as (

    {{ kpi_rows(measures, from='counted') }}

)

select * from final
