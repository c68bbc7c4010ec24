{#- One row per child and family (single) assessment started on or before as_of, seen from
    as_of (an authorisation after as_of is still open), timed in working days
    (docs/measures/missing-and-timeliness.md): authorised within N working days of the start
    (var assessment_working_days, national 45). Working days are counted after the start
    day, up to and including the authorisation day (the start day is day 0, as the DfE's CIN
    "assessment working days" and the SSD's 15-working-day ICPC target count them), over
    the bank-holiday calendar (macros/working_days.sql). Person level: restricted schema. -#}
with

assessments as (

    select * from {{ ref('stg_ssd__cin_assessments') }}
    where
        start_date is not null
        and start_date <= {{ as_of() }}

),

timed as (

    select
        assessments.person_id,
        assessments.assessment_id,
        assessments.referral_id,
        assessments.start_date,
        {{ end_as_of('assessments.authorised_date', as_of()) }} as auth_date,
        {{ add_working_days('assessments.start_date', var('assessment_working_days')) }}
            as due_date,
        {{ working_days_between('assessments.start_date', as_of()) }} as working_days_open_on_as_of

    from assessments

),

final as (

    select
        timed.person_id,
        timed.assessment_id,
        timed.referral_id,
        timed.start_date,
        timed.auth_date,
        timed.due_date,
        {{ working_days_between('timed.start_date', 'timed.auth_date') }} as working_days_to_auth,
        case
            when timed.auth_date is not null
                then
                    {{ working_days_between('timed.start_date', 'timed.auth_date') }}
                    <= {{ var('assessment_working_days') }}
            when timed.working_days_open_on_as_of > {{ var('assessment_working_days') }}
                then false
        end as authorised_within_45wd,
        (
            timed.auth_date is null
            and timed.working_days_open_on_as_of > {{ var('assessment_working_days') }}
        ) as overdue_on_as_of,
        case when timed.auth_date is null then timed.working_days_open_on_as_of end
            as working_days_open_on_as_of,
        {{ as_of() }} as as_of

    from timed

)

-- team and worker on the assessment's start
-- (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.start_date', 'alloc') }}
