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

select * from final
