with

source as (

    select * from {{ source('ssd', 'ssd_cla_episodes') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        clae_cla_episode_id as cla_episode_id,
        clae_person_id as person_id,
        clae_cla_id as cla_id,
        clae_cla_episode_start_date::date as start_date,
        clae_cla_episode_start_reason as start_reason,
        clae_cla_primary_need_code as primary_need_code,
        clae_cla_episode_ceased_date::date as end_date,
        clae_cla_episode_ceased_reason as end_reason,
        clae_referral_id as referral_id,
        clae_cla_placement_id as placement_id,
        clae_entered_care_date::date as entered_care_date,
        clae_cla_last_iro_contact_date::date as last_iro_contact_date,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
