with

source as (

    select * from {{ source('ssd', 'ssd_early_help_episodes') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        earl_episode_id as early_help_episode_id,
        earl_person_id as person_id,
        earl_episode_start_date::date as start_date,
        earl_episode_end_date::date as end_date,
        earl_episode_reason as reason,
        earl_episode_end_reason as end_reason,
        earl_episode_organisation as organisation,
        earl_episode_worker_id as worker_id,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
