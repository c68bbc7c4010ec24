{#- Published. Stability of the children looked after, month by month and by team: on the
    last day of each of the last var('trend_months') months, and on as_of (the month to
    date), the DfE placement-stability measures computed as if that day were as_of
    (int_cla_stability_snapshots) and the social worker changes of the Children's
    Commissioner's stability index, each child counted for the team holding the case that
    day. Shared long KPI shape (macros/kpi.sql): a month is "as recorded now", so the series
    has three years on the first night. Definitions: docs/measures/teams-and-trends.md. -#}
with

{# the var('trend_months') months before as_of's and as_of's own (kpi_months(),
   macros/kpi.sql): each measured on its month_end, the month's last day or as_of, the
   dates int_stability_snapshot_dates marks is_trend_month_end or is_as_of #}
months as (

    {{ kpi_months(
        "date_trunc('month', " ~ as_of() ~ ") - interval '" ~ var('trend_months') ~ " months'",
        required=true
    ) }}

),

snapshots as (

    select * from {{ ref('int_cla_stability_snapshots') }}

),

worker_changes as (

    select * from {{ ref('int_worker_changes') }}

),

availability as (

    {{ tables_available(['ssd_cla_episodes', 'ssd_cla_placement', 'ssd_involvements']) }}

),

worker_changes_12m as (

    -- one pass: each snapshot child's worker changes in the lookback window (a join and a
    -- count, not a subquery per row, whose cost grew with the square of the authority)
    select
        snapshots.snapshot_date,
        snapshots.person_id,
        count(*) as worker_changes_12m
    from snapshots
    inner join months on snapshots.snapshot_date = months.month_end
    inner join worker_changes
        on
            snapshots.person_id = worker_changes.person_id
            and snapshots.snapshot_date >= worker_changes.change_date
            and (
                snapshots.snapshot_date
                - interval '{{ var("worker_changes_lookback_months") }} months'
            )::date < worker_changes.change_date
    group by snapshots.snapshot_date, snapshots.person_id

),

children as (

    select
        snapshots.snapshot_date,
        snapshots.person_id,
        snapshots.has_3plus_placements_12m,
        snapshots.in_long_term_denominator,
        snapshots.long_term_stable,
        {{ allocation_columns('alloc') }},
        coalesce(worker_changes_12m.worker_changes_12m, 0) as worker_changes_12m
    from snapshots
    inner join months on snapshots.snapshot_date = months.month_end
    left join worker_changes_12m
        on
            snapshots.snapshot_date = worker_changes_12m.snapshot_date
            and snapshots.person_id = worker_changes_12m.person_id
    {{ allocation_at('snapshots.person_id', 'snapshots.snapshot_date', 'alloc') }}

),

child_counts as (

    select
        children.snapshot_date,
        {{ team_or_all('children.team') }} as team,
        count(*) as looked_after,
        count(*) filter (where children.has_3plus_placements_12m) as three_plus_placements,
        count(*) filter (where children.long_term_stable) as long_term_stable,
        count(*) filter (where children.in_long_term_denominator) as long_term_denominator,
        count(*) filter (where children.worker_changes_12m >= 2) as two_plus_worker_changes,
        count(*) filter (where children.worker_changes_12m = 0) as no_worker_change
    from children
    group by grouping sets ((children.snapshot_date, children.team), (children.snapshot_date))

),

counted as (

    select
        {{ kpi_month_columns('months', 'teams.team') }},
        -- not available (null) without the periods of care (ssd_cla_episodes), never 0
        availability.has_ssd_cla_episodes,
        availability.has_ssd_cla_episodes and availability.has_ssd_cla_placement
            as has_ssd_cla_placement,
        availability.has_ssd_cla_episodes and availability.has_ssd_involvements
            as has_ssd_involvements,
        child_counts.looked_after,
        child_counts.three_plus_placements,
        child_counts.long_term_stable,
        child_counts.long_term_denominator,
        child_counts.two_plus_worker_changes,
        child_counts.no_worker_change
    from months
    cross join {{ ref('dim_team') }} as teams
    cross join availability
    left join child_counts
        on
            months.month_end = child_counts.snapshot_date
            and teams.team = child_counts.team

),

{%- set measures = [
    {'measure': 'looked_after', 'numerator': 'looked_after',
     'available': 'counted.has_ssd_cla_episodes'},
    {'measure': 'three_plus_placements_12m', 'numerator': 'three_plus_placements',
     'denominator': 'looked_after', 'available': 'counted.has_ssd_cla_placement'},
    {'measure': 'long_term_stability', 'numerator': 'long_term_stable',
     'denominator': 'long_term_denominator', 'available': 'counted.has_ssd_cla_placement'},
    {'measure': 'two_plus_social_worker_changes_12m', 'numerator': 'two_plus_worker_changes',
     'denominator': 'looked_after', 'available': 'counted.has_ssd_involvements'},
    {'measure': 'no_social_worker_change_12m', 'numerator': 'no_worker_change',
     'denominator': 'looked_after', 'available': 'counted.has_ssd_involvements'},
] %}

final as (

    {{ kpi_rows(measures, from='counted') }}

)

select * from final
