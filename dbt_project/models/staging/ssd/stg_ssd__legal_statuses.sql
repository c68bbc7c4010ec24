with

source as (

    select * from {{ source('ssd', 'ssd_legal_status') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        lega_legal_status_id as legal_status_id,
        lega_person_id as person_id,
        lega_legal_status as legal_status,
        lega_legal_status_start_date::date as start_date,
        lega_legal_status_end_date::date as end_date,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
