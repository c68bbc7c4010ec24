{#- One row per placement (ssd_cla_placement) starting on or before as_of, seen from as_of
    (ends after as_of are open). Person level: restricted schema. -#}
with

placements as (

    select * from {{ ref('int_placement_spans') }}

),

final as (

    select
        person_id,
        placement_id,
        cla_id,
        start_date,
        end_date,
        placement_type,
        provider,
        postcode,
        urn,
        change_reason,
        is_unplanned_ending,
        is_temporary,
        is_counted as is_counted_in_stability

    from placements

)

-- team and worker on the placement's start
-- (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.start_date', 'alloc') }}
