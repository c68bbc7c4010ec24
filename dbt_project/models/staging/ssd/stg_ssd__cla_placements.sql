with

source as (

    select * from {{ source('ssd', 'ssd_cla_placement') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        clap_cla_placement_id as placement_id,
        clap_cla_id as cla_id,
        clap_person_id as person_id,
        clap_cla_placement_start_date::date as start_date,
        clap_cla_placement_end_date::date as end_date,
        clap_cla_placement_type as placement_type,
        clap_cla_placement_provider as provider,
        clap_cla_placement_postcode as postcode,
        clap_cla_placement_urn as urn,
        clap_cla_placement_change_reason as change_reason,
        clap_cla_placement_distance::numeric as distance_miles,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
