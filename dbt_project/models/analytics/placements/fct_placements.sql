{#- One row per placement (ssd_cla_placement) starting on or before as_of, seen from as_of
    (ends after as_of are open). Person level: restricted schema. A placement continued after
    a temporary one with the same carer keeps its own row; continuous_placement_id and
    continuous_start_date say which continuous placement it is part of (count distinct
    continuous_placement_id of the counted rows to count placements). -#}
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
        is_short_break,
        is_counted as is_counted_in_stability,
        continues_placement_id,
        continuous_placement_id,
        continuous_start_date

    from placements

)

-- team and worker on the placement's start
-- (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.start_date', 'alloc') }}
