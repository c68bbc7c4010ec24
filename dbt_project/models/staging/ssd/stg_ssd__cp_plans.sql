with

source as (

    select * from {{ source('ssd', 'ssd_cp_plans') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        cppl_cp_plan_id as cp_plan_id,
        cppl_person_id as person_id,
        cppl_cp_plan_start_date::date as start_date,
        cppl_cp_plan_end_date::date as end_date,
        cppl_cp_plan_initial_category as initial_category,
        cppl_cp_plan_latest_category as latest_category,
        cppl_referral_id as referral_id,
        cppl_icpc_id as icpc_id,
        (cppl_cp_plan_ola = 'Y') as is_other_la_plan,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
