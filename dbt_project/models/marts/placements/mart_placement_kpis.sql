{#- Published. Placement-stability and review KPIs per reporting year (1 April - 31 March,
    closing on each 31 March up to as_of) and for the year to date at as_of: numerator,
    denominator and rate. Counts only, no identifiers. A measure whose source table the drop
    did not carry is null (not available), never zero. -#}
with

snapshot_dates as (

    select * from {{ ref('int_stability_snapshot_dates') }}

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

-- a table is available unless the load recorded it as absent
availability as (

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

three_plus as (

    select
        snapshot_dates.snapshot_date,
        'three_plus_placements_12m' as measure,
        count(*) filter (where snapshots.has_3plus_placements_12m) as numerator,
        count(snapshots.person_id) as denominator,
        'placements' as needs

    from snapshot_dates
    left join snapshots
        on snapshot_dates.snapshot_date = snapshots.snapshot_date
    group by snapshot_dates.snapshot_date

),

long_term as (

    select
        snapshot_dates.snapshot_date,
        'long_term_stability' as measure,
        count(*) filter (where snapshots.long_term_stable) as numerator,
        count(*) filter (where snapshots.in_long_term_denominator) as denominator,
        'placements' as needs

    from snapshot_dates
    left join snapshots
        on snapshot_dates.snapshot_date = snapshots.snapshot_date
    group by snapshot_dates.snapshot_date

),

second_periods as (

    select
        snapshot_dates.snapshot_date,
        'second_period_within_12m' as measure,
        count(*) filter (where periods.second_period_within_12m) as numerator,
        count(periods.cla_id) as denominator,
        'episodes' as needs

    from snapshot_dates
    left join periods
        on periods.start_date between snapshot_dates.period_start and snapshot_dates.period_end
    group by snapshot_dates.snapshot_date

),

sgo_breakdowns as (

    select
        snapshot_dates.snapshot_date,
        'sgo_breakdown_within_1m' as measure,
        count(*) filter (where sgo_exits.broke_down_within_1m) as numerator,
        count(sgo_exits.cla_id) as denominator,
        'episodes' as needs

    from snapshot_dates
    left join sgo_exits
        on sgo_exits.ended_with_sgo
        and sgo_exits.end_date between snapshot_dates.period_start and snapshot_dates.period_end
    group by snapshot_dates.snapshot_date

),

reviews_on_time as (

    select
        snapshot_dates.snapshot_date,
        'reviews_on_time' as measure,
        count(*) filter (where reviews.on_time) as numerator,
        count(reviews.cla_id) as denominator,
        'reviews' as needs

    from snapshot_dates
    left join reviews
        on reviews.due_date between snapshot_dates.period_start and snapshot_dates.period_end
    group by snapshot_dates.snapshot_date

),

measures as (

    select * from three_plus
    union all
    select * from long_term
    union all
    select * from second_periods
    union all
    select * from sgo_breakdowns
    union all
    select * from reviews_on_time

),

available as (

    select
        measures.snapshot_date,
        measures.measure,
        case
            when measures.needs = 'placements' and not availability.has_placements then false
            when measures.needs = 'reviews' and not availability.has_reviews then false
            else true
        end as is_available,
        measures.numerator,
        measures.denominator

    from measures
    cross join availability

),

final as (

    select
        available.measure,
        snapshot_dates.reporting_year,
        snapshot_dates.period_start,
        snapshot_dates.period_end,
        snapshot_dates.is_year_end as is_complete_year,
        case when available.is_available then available.numerator::integer end as numerator,
        case when available.is_available then available.denominator::integer end as denominator,
        case
            when available.is_available
                then round(available.numerator::numeric / nullif(available.denominator, 0), 4)
        end as rate

    from available
    inner join snapshot_dates
        on available.snapshot_date = snapshot_dates.snapshot_date

)

select * from final
