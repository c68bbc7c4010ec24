with

source as (

    select * from {{ source('ssd', 'ssd_cla_reviews') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        clar_cla_review_id as review_id,
        clar_cla_id as cla_id,
        clar_cla_review_date::date as review_date,
        clar_cla_review_due_date::date as recorded_due_date,
        (clar_cla_review_cancelled = 'Y') as is_cancelled,
        clar_cla_review_participation as participation_code,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
