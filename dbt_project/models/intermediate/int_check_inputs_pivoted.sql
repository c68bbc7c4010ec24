{#- One row: whether tonight's drop carried the input of each record-completeness warning
    (expectations/warnings.yml) and its worklist (models/analytics/worklists/), with
    drop_carries() (macros/drop_inputs.sql) like the other *_inputs_pivoted models. The one
    definition both read: a worklist whose input is absent is empty, and the GX check
    records "not available" instead of passing or failing every row (docs/data-quality.md,
    Not available). -#}
with

load_files as (

    select * from {{ ref('stg_cscw__load_files') }}

),

transition_inputs as (

    select * from {{ ref('int_transition_inputs_pivoted') }}

),

carried as (

    select
        {{ drop_carries('ssd_cla_episodes') }} as has_cla_episodes,
        {{ drop_carries('ssd_cla_placement') }} as has_cla_placements,
        {{ drop_carries('ssd_address') }} as has_addresses

    from load_files

),

final as (

    select
        carried.has_cla_episodes and carried.has_cla_placements
            as is_current_location_available,
        carried.has_addresses as is_current_address_available,
        transition_inputs.is_close_authorisation_available as is_step_down_approval_available,
        transition_inputs.is_plan_actions_available

    from carried
    cross join transition_inputs

)

select * from final
