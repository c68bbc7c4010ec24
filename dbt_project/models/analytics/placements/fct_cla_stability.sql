{#- One row per child looked after on as_of (open period of care; V3/V4 short breaks left
    out), with the DfE placement-stability measures. Person level: restricted schema. -#}
with

snapshots as (

    select * from {{ ref('int_cla_stability_snapshots') }}
    where is_as_of

),

final as (

    select
        snapshot_date as as_of,
        person_id,
        cla_id,
        legal_status,
        period_start_date,
        age_years,
        current_placement_id,
        current_placement_type,
        current_placement_start_date,
        current_placement_continuous_start_date,
        placements_in_last_12_months,
        has_3plus_placements_12m,
        unplanned_endings_12m,
        in_long_term_denominator,
        long_term_stable

    from snapshots

)

-- team and worker on as_of (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.as_of', 'alloc') }}
