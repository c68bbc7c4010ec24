with

source as (

    select * from {{ source('ssd', 'ext_plan_actions') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        action_id,
        person_id,
        plan_type,
        plan_id,
        action_recorded_date::date as recorded_date,
        target_date::date as target_date,
        (outcome_agreed = 'Y') as is_outcome_agreed,
        action_text,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
