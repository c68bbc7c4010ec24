with

source as (

    select * from {{ source('ssd', 'ssd_cin_plans') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        cinp_cin_plan_id as cin_plan_id,
        cinp_referral_id as referral_id,
        cinp_person_id as person_id,
        cinp_cin_plan_start_date::date as start_date,
        cinp_cin_plan_end_date::date as end_date,
        cinp_cin_plan_team as team,
        cinp_cin_plan_worker_id as worker_id,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
