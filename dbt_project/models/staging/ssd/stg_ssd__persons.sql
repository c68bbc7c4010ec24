with

source as (

    select * from {{ source('ssd', 'ssd_person') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        pers_person_id as person_id,
        pers_sex as sex,
        pers_ethnicity as ethnicity,
        pers_dob::date as date_of_birth,
        pers_forename as forename,
        pers_surname as surname,
        pers_upn_unknown as upn_unknown_reason,
        pers_gender as gender,
        pers_common_child_id as nhs_number,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
