{#- Published dimension: the placement type groups a mart's placement_type_group carries
    (placements_type_group(), macros/placements_type_group.sql), with a label, the 903 PLACE
    codes of each (read from the placement_type rows of seeds/code_groupings.csv) and their
    order, for BI filters. A group the seed gains without a label in placement_type_groups()
    (macros/dimensions.sql) still gets a row, labelled with its own name. -#}
{%- set groups = placement_type_groups() %}
with

labelled as (

    select
        labelled.placement_type_group,
        labelled.placement_type_group_label,
        labelled.sort_order
    from (
        values
        {%- for group, label in groups %}
            ('{{ group }}', '{{ label | replace("'", "''") }}', {{ loop.index }})
            {{- ',' if not loop.last }}
        {%- endfor %}
    ) as labelled (placement_type_group, placement_type_group_label, sort_order)

),

seeded as (

    select
        code_groupings.code_group as placement_type_group,
        string_agg(code_groupings.code, ', ' order by code_groupings.code) as codes
    from {{ ref('code_groupings') }} as code_groupings
    where code_groupings.code_list = 'placement_type'
    group by code_groupings.code_group

),

final as (

    select
        coalesce(labelled.placement_type_group, seeded.placement_type_group)::text
            as placement_type_group,
        coalesce(labelled.placement_type_group_label, seeded.placement_type_group)::text
            as placement_type_group_label,
        seeded.codes::text as placement_type_codes,
        coalesce(
            labelled.sort_order,
            {{ groups | length }} + dense_rank() over (
                partition by labelled.placement_type_group is null
                order by seeded.placement_type_group
            )
        )::integer as sort_order
    from labelled
    full outer join seeded
        on labelled.placement_type_group = seeded.placement_type_group

)

select * from final
