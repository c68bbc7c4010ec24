with

source as (

    select * from {{ source('ssd', 'ssd_initial_cp_conference') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        icpc_icpc_id as icpc_id,
        icpc_person_id as person_id,
        icpc_icpc_date::date as conference_date,
        icpc_s47_enquiry_id as s47_enquiry_id,
        icpc_referral_id as referral_id,
        icpc_cp_plan_id as cp_plan_id,
        icpc_icpc_target_date::date as target_date,
        (icpc_icpc_transfer_in = 'Y') as is_transfer_in,
        (icpc_icpc_outcome_cp_flag = 'Y') as is_outcome_cp_plan,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
