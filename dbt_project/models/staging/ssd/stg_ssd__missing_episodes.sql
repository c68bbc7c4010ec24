with

source as (

    select * from {{ source('ssd', 'ssd_missing') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        miss_table_id as missing_episode_id,
        miss_person_id as person_id,
        miss_missing_episode_start_date::date as start_date,
        miss_missing_episode_type as missing_type,
        miss_missing_episode_end_date::date as end_date,
        miss_missing_rhi_offered as rhi_offered,
        miss_missing_rhi_accepted as rhi_accepted,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
