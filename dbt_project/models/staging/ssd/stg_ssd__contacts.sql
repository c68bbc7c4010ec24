with

source as (

    select * from {{ source('ssd', 'ssd_contacts') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        cont_contact_id as contact_id,
        cont_person_id as person_id,
        cont_contact_date::date as contact_date,
        cont_contact_source_code as contact_source_code,
        cont_contact_outcome_json as contact_outcome_json,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
