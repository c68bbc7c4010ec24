{#- One row: which inputs of the missing-from-care and timeliness measures
    (docs/measures/missing-and-timeliness.md) tonight's drop carried, from the loader's record
    of the night's files (stg_cscw__load_files, the one place the warehouse knows a table or
    column was absent). A measure whose input is absent is "not available" (null), never
    zero; a table delivered with zero rows is available (and counts zero). -#}
with

load_files as (

    select * from {{ ref('stg_cscw__load_files') }}

),

final as (

    select
        coalesce(bool_or(
            load_files.table_name = 'ssd_missing' and load_files.is_available
        ), false) as is_missing_available,
        coalesce(bool_or(
            load_files.table_name = 'ssd_missing'
            and load_files.is_available
            and 'miss_missing_rhi_offered' = any(load_files.columns_present)
        ), false) as is_rhi_offered_available,
        coalesce(bool_or(
            load_files.table_name = 'ssd_missing'
            and load_files.is_available
            and 'miss_missing_rhi_accepted' = any(load_files.columns_present)
        ), false) as is_rhi_accepted_available,
        coalesce(bool_or(
            load_files.table_name = 'ssd_cla_episodes' and load_files.is_available
        ), false) as is_cla_episodes_available,
        coalesce(bool_or(
            load_files.table_name = 'ssd_cin_assessments' and load_files.is_available
        ), false) as is_assessments_available,
        coalesce(bool_or(
            load_files.table_name = 'ssd_s47_enquiry' and load_files.is_available
        ), false) as is_s47_available,
        coalesce(bool_or(
            load_files.table_name = 'ssd_initial_cp_conference' and load_files.is_available
        ), false) as is_icpc_available,
        {# whether an ICPC led to a CP plan can be read from the conference's own
            outcome columns or from ssd_cp_plans.cppl_icpc_id #}
        coalesce(bool_or(
            (
                load_files.table_name = 'ssd_initial_cp_conference'
                and load_files.is_available
                and (
                    'icpc_icpc_outcome_cp_flag' = any(load_files.columns_present)
                    or 'icpc_cp_plan_id' = any(load_files.columns_present)
                )
            )
            or (
                load_files.table_name = 'ssd_cp_plans'
                and load_files.is_available
                and 'cppl_icpc_id' = any(load_files.columns_present)
            )
        ), false) as is_icpc_outcome_available

    from load_files

)

select * from final
