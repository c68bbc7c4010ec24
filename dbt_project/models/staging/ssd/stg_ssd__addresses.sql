with

source as (

    select * from {{ source('ssd', 'ssd_address') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        addr_table_id as address_id,
        addr_person_id as person_id,
        addr_address_type as address_type,
        addr_address_start_date::date as start_date,
        addr_address_end_date::date as end_date,
        addr_address_postcode as postcode,
        addr_address_json as address_json,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
