{#- One row: whether tonight's drop carried the input of each record-completeness warning
    (expectations/warnings.yml) and its worklist (models/analytics/worklists/). The one
    definition both read: a worklist whose input is absent is empty, and the GX check
    records "not available" instead of passing or failing every row
    (docs/data-quality.md#not-available). -#}
with

tables as (

    {{ tables_available(['ssd_cla_episodes', 'ssd_cla_placement', 'ssd_address']) }}

),

transition_inputs as (

    select * from {{ ref('int_transition_inputs_pivoted') }}

),

final as (

    select
        tables.has_ssd_cla_episodes and tables.has_ssd_cla_placement
            as is_current_location_available,
        tables.has_ssd_address as is_current_address_available,
        transition_inputs.is_close_authorisation_available as is_step_down_approval_available,
        transition_inputs.is_plan_actions_available

    from tables
    cross join transition_inputs

)

select * from final
