{#- One row: which inputs of the missing-from-care and timeliness measures
    (docs/measures/missing-and-timeliness.md) tonight's drop carried, from the loader's record
    of the night's files (stg_cscw__load_files, the one place the warehouse knows a table or
    column was absent; macros/drop_inputs.sql). A measure whose input is absent is "not
    available" (null), never zero; a table delivered with zero rows is available (and counts
    zero). -#}
with

load_files as (

    select * from {{ ref('stg_cscw__load_files') }}

),

final as (

    select
        {{ drop_carries('ssd_missing') }} as is_missing_available,
        {{ drop_carries('ssd_missing', ['miss_missing_rhi_offered']) }}
            as is_rhi_offered_available,
        {{ drop_carries('ssd_missing', ['miss_missing_rhi_accepted']) }}
            as is_rhi_accepted_available,
        {{ drop_carries('ssd_cla_episodes') }} as is_cla_episodes_available,
        {{ drop_carries('ssd_cin_assessments') }} as is_assessments_available,
        {{ drop_carries('ssd_s47_enquiry') }} as is_s47_available,
        {{ drop_carries('ssd_initial_cp_conference') }} as is_icpc_available,
        {# whether an ICPC led to a CP plan can be read from the conference's own outcome
           columns or from ssd_cp_plans.cppl_icpc_id #}
        (
            {{ drop_carries('ssd_initial_cp_conference',
                any_columns=['icpc_icpc_outcome_cp_flag', 'icpc_cp_plan_id']) }}
            or {{ drop_carries('ssd_cp_plans', ['cppl_icpc_id']) }}
        ) as is_icpc_outcome_available

    from load_files

)

select * from final
