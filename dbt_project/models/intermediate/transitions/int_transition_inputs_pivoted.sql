{#- One row: which inputs of the transition, referral and plan measures tonight's drop
    carried. A measure whose input is absent is "not available" (null), never zero. -#}
with

load_files as (

    select * from {{ ref('stg_cscw__load_files') }}

),

final as (

    select
        coalesce(bool_or(
            load_files.table_name = 'ssd_cin_episodes' and load_files.is_available
        ), false) as is_cin_episodes_available,
        coalesce(bool_or(
            load_files.table_name = 'ssd_cin_episodes'
            and load_files.is_available
            and 'ext_close_authorised_by' = any(load_files.columns_present)
            and 'ext_close_authorised_date' = any(load_files.columns_present)
        ), false) as is_close_authorisation_available,
        coalesce(bool_or(
            load_files.table_name = 'ssd_cin_assessments' and load_files.is_available
        ), false) as is_cin_assessments_available,
        coalesce(bool_or(
            load_files.table_name = 'ssd_early_help_episodes' and load_files.is_available
        ), false) as is_early_help_available,
        coalesce(bool_or(
            load_files.table_name = 'ssd_cp_plans' and load_files.is_available
        ), false) as is_cp_plans_available,
        coalesce(bool_or(
            load_files.table_name = 'ssd_cla_episodes' and load_files.is_available
        ), false) as is_cla_episodes_available,
        coalesce(bool_or(
            load_files.table_name = 'ext_plan_actions' and load_files.is_available
        ), false) as is_plan_actions_available

    from load_files

)

select * from final
