with

source as (

    select * from {{ source('ssd', 'ssd_cin_episodes') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        cine_referral_id as referral_id,
        cine_person_id as person_id,
        cine_referral_date::date as referral_date,
        cine_referral_source_code as referral_source_code,
        cine_cin_primary_need_code as primary_need_code,
        (cine_referral_nfa = 'Y') as is_referral_nfa,
        cine_close_reason as close_reason,
        cine_close_date::date as close_date,
        cine_referral_outcome_json as referral_outcome_json,
        cine_referral_team as team,
        cine_referral_worker_id as worker_id,
        ext_close_authorised_by as close_authorised_by,
        ext_close_authorised_date::date as close_authorised_date,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
