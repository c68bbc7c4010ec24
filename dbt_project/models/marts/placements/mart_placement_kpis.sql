{#- Published. Placement-stability and review KPIs per reporting year (1 April - 31 March,
    closing on each 31 March up to as_of) and for the year to date at as_of, in the shared
    long KPI shape (macros/kpi.sql, docs/measures/kpi-shape.md): numerator, denominator and
    rate, for the authority (team `all`) and for every team of dim_team (a child looked
    after on the cohort date counted for the team holding the case that day; a period of
    care for the team at its start, an SGO exit at its last day, a review at its due date).
    Counts only, no identifiers; mart_placement_kpis_suppressed is the twin for wider
    circulation. A measure whose source table the drop did not carry is null (not
    available), never zero: every measure needs ssd_cla_episodes (the periods of care), the
    stability measures ssd_cla_placement too and reviews ssd_cla_reviews. Definitions:
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

teams as (

    select * from {{ ref('dim_team') }}

),

availability as (

    {#- a table is available unless the load recorded it as absent -#}
    {{ tables_available(['ssd_cla_episodes', 'ssd_cla_placement', 'ssd_cla_reviews']) }}

),

sgo_exits as (

    select
        periods.*,
        lead(periods.sgo_breakdown_within_1m) over (
            partition by periods.person_id order by periods.period_of_care_number
        ) as broke_down_within_1m,
        -- counted for the team holding the case on the period's last day
        {{ allocation_columns('alloc_end', 'end_') }}

    from periods
    {{ allocation_at('periods.person_id', '(periods.end_date - 1)', 'alloc_end') }}

),

periods_in_shape as (

    {#- the reporting years in the shared shape's period columns, for every team and `all` -#}
    select
        snapshot_dates.snapshot_date,
        teams.team,
        'reporting_year' as period_type,
        snapshot_dates.reporting_year as period,
        snapshot_dates.period_start,
        snapshot_dates.period_end,
        snapshot_dates.is_year_end as is_complete_period,
        {{ as_of() }} as as_of,
        availability.has_ssd_cla_episodes,
        availability.has_ssd_cla_episodes and availability.has_ssd_cla_placement
            as has_placements,
        availability.has_ssd_cla_episodes and availability.has_ssd_cla_reviews
            as has_reviews

    from snapshot_dates
    cross join teams
    cross join availability

),

-- the children looked after on each cohort date, with the team holding the case that day
snapshot_children as (

    select
        snapshots.snapshot_date,
        snapshots.person_id,
        snapshots.cla_id,
        snapshots.has_3plus_placements_12m,
        snapshots.in_long_term_denominator,
        snapshots.long_term_stable,
        {{ allocation_columns('alloc') }}

    from snapshots
    inner join snapshot_dates on snapshots.snapshot_date = snapshot_dates.snapshot_date
    {{ allocation_at('snapshots.person_id', 'snapshots.snapshot_date', 'alloc') }}

),

snapshot_counts as (

    select
        snapshots.snapshot_date,
        {{ team_or_all('snapshots.team') }} as team,
        count(*) filter (where snapshots.has_3plus_placements_12m) as three_plus_placements,
        count(snapshots.person_id) as looked_after,
        count(*) filter (where snapshots.long_term_stable) as long_term_stable,
        count(*) filter (where snapshots.in_long_term_denominator) as long_term_denominator,
        count(*) filter (
            where snapshot_periods.is_second_or_subsequent_period
        ) as looked_after_second_or_later_period

    from snapshot_children as snapshots
    left join periods as snapshot_periods
        on snapshots.cla_id = snapshot_periods.cla_id
    group by grouping sets (
        (snapshots.snapshot_date, snapshots.team),
        (snapshots.snapshot_date)
    )

),

period_counts as (

    select
        snapshot_dates.snapshot_date,
        {{ team_or_all('periods.team') }} as team,
        count(*) filter (where periods.second_period_within_12m) as second_periods_within_12m,
        count(*) filter (
            where periods.is_second_or_subsequent_period
        ) as second_or_later_periods_started,
        count(periods.cla_id) as periods_started

    from snapshot_dates
    inner join periods
        on periods.start_date between snapshot_dates.period_start and snapshot_dates.period_end
    group by grouping sets (
        (snapshot_dates.snapshot_date, periods.team),
        (snapshot_dates.snapshot_date)
    )

),

sgo_counts as (

    select
        snapshot_dates.snapshot_date,
        {{ team_or_all('sgo_exits.end_team') }} as team,
        count(*) filter (where sgo_exits.broke_down_within_1m) as sgo_breakdowns,
        count(sgo_exits.cla_id) as sgo_exits

    from snapshot_dates
    inner join sgo_exits
        on
            sgo_exits.ended_with_sgo
            and sgo_exits.end_date between snapshot_dates.period_start and snapshot_dates.period_end
    group by grouping sets (
        (snapshot_dates.snapshot_date, sgo_exits.end_team),
        (snapshot_dates.snapshot_date)
    )

),

review_counts as (

    select
        snapshot_dates.snapshot_date,
        {{ team_or_all('reviews.team') }} as team,
        count(*) filter (where reviews.on_time) as reviews_on_time,
        count(reviews.cla_id) as reviews_due

    from snapshot_dates
    inner join reviews
        on reviews.due_date between snapshot_dates.period_start and snapshot_dates.period_end
    group by grouping sets (
        (snapshot_dates.snapshot_date, reviews.team),
        (snapshot_dates.snapshot_date)
    )

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
    left join snapshot_counts
        on
            periods_in_shape.snapshot_date = snapshot_counts.snapshot_date
            and periods_in_shape.team = snapshot_counts.team
    left join period_counts
        on
            periods_in_shape.snapshot_date = period_counts.snapshot_date
            and periods_in_shape.team = period_counts.team
    left join sgo_counts
        on
            periods_in_shape.snapshot_date = sgo_counts.snapshot_date
            and periods_in_shape.team = sgo_counts.team
    left join review_counts
        on
            periods_in_shape.snapshot_date = review_counts.snapshot_date
            and periods_in_shape.team = review_counts.team

),

{#- the measures, each written once: its name, its counts and the input it needs -#}
{%- set measures = [
    {'measure': 'three_plus_placements_12m', 'numerator': 'three_plus_placements',
     'denominator': 'looked_after', 'available': 'counted.has_placements'},
    {'measure': 'long_term_stability', 'numerator': 'long_term_stable',
     'denominator': 'long_term_denominator', 'available': 'counted.has_placements'},
    {'measure': 'second_period_within_12m', 'numerator': 'second_periods_within_12m',
     'denominator': 'periods_started', 'available': 'counted.has_ssd_cla_episodes'},
    {'measure': 'second_or_later_period_looked_after',
     'numerator': 'looked_after_second_or_later_period', 'denominator': 'looked_after',
     'available': 'counted.has_ssd_cla_episodes'},
    {'measure': 'second_or_later_period_started', 'numerator': 'second_or_later_periods_started',
     'denominator': 'periods_started', 'available': 'counted.has_ssd_cla_episodes'},
    {'measure': 'sgo_breakdown_within_1m', 'numerator': 'sgo_breakdowns',
     'denominator': 'sgo_exits', 'available': 'counted.has_ssd_cla_episodes'},
    {'measure': 'reviews_on_time', 'numerator': 'reviews_on_time',
     'denominator': 'reviews_due', 'available': 'counted.has_reviews'},
] %}

final as (

    {{ kpi_rows(measures, from='counted') }}

)

select * from final
