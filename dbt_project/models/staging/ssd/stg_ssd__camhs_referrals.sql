with

source as (

    select * from {{ source('ssd', 'ext_camhs_referrals') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        camh_referral_id as referral_id,
        camh_person_id as person_id,
        camh_referral_date::date as referral_date,
        (camh_accepted = 'Y') as is_accepted,
        camh_first_appointment_date::date as first_appointment_date,
        camh_closed_date::date as closed_date,
        camh_outcome as outcome,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
