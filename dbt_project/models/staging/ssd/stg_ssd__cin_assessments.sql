with

source as (

    select * from {{ source('ssd', 'ssd_cin_assessments') }}
    where {{ current_batch_filter() }}

),

renamed as (

    select
        cina_assessment_id as assessment_id,
        cina_person_id as person_id,
        cina_referral_id as referral_id,
        cina_assessment_start_date::date as start_date,
        cina_assessment_auth_date::date as authorised_date,
        (cina_assessment_child_seen = 'Y') as is_child_seen,
        cina_assessment_outcome_json as outcome_json,
        (cina_assessment_outcome_nfa = 'Y') as is_outcome_nfa,
        cina_assessment_team as team,
        cina_assessment_worker_id as worker_id,
        _batch_id as batch_id,
        _drop_date as drop_date

    from source

)

select * from renamed
