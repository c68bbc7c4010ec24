with

source as (

    select * from {{ source('ssd', 'ssd_professionals') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        prof_professional_id as professional_id,
        prof_social_worker_registration_no as registration_number,
        prof_professional_job_title as job_title,
        prof_professional_department as department,
        (prof_agency_worker_flag = 'Y') as is_agency_worker,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
