with

source as (

    select * from {{ source('ssd', 'ssd_s47_enquiry') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        s47e_s47_enquiry_id as s47_enquiry_id,
        s47e_referral_id as referral_id,
        s47e_person_id as person_id,
        s47e_s47_start_date::date as start_date,
        s47e_s47_end_date::date as end_date,
        (s47e_s47_nfa = 'Y') as is_nfa,
        s47e_s47_outcome_json as outcome_json,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
