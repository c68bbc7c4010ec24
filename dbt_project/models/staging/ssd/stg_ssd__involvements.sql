with

source as (

    select * from {{ source('ssd', 'ssd_involvements') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        invo_involvements_id as involvement_id,
        invo_person_id as person_id,
        invo_professional_id as professional_id,
        invo_involvement_start_date::date as start_date,
        invo_involvement_end_date::date as end_date,
        invo_professional_role_id as professional_role,
        invo_professional_team as team,
        invo_worker_change_reason as worker_change_reason,
        invo_referral_id as referral_id,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
