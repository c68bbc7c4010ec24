{{ config(materialized='table', post_hook='analyze {{ this }}') }}

{#- Placements seen from as_of: placements starting after as_of are ignored, ends after as_of
    are treated as open, and the flags every placement measure uses are set once here. -#}
with

placements as (

    select * from {{ ref('stg_ssd__cla_placements') }}

),

seen_as_of as (

    select
        placement_id,
        person_id,
        cla_id,
        start_date,
        {{ end_as_of('end_date', as_of()) }} as end_date,
        placement_type,
        provider,
        postcode,
        urn,
        change_reason

    from placements
    where start_date <= {{ as_of() }}

),

final as (

    select
        placement_id,
        person_id,
        cla_id,
        start_date,
        end_date,
        placement_type,
        provider,
        postcode,
        urn,
        -- the reason is only an ending's reason once the placement has ended by as_of
        case when end_date is not null then change_reason end as change_reason,
        coalesce(placement_type in {{ codes('placement_type', 'temporary') }}, false)
            as is_temporary,
        coalesce(
            end_date is not null
            and change_reason in {{ codes('placement_change_reason', 'unplanned') }},
            false
        ) as is_unplanned_ending,
        {% if var('count_temporary_placements') -%}
        true
        {%- else -%}
            not coalesce(placement_type in {{ codes('placement_type', 'temporary') }}, false)
        {%- endif %} as is_counted

    from seen_as_of

)

select * from final
