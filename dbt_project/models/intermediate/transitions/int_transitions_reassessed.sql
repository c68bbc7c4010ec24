{#- Flag family "re-assessed before" of the threshold transitions fact: on every step_down
    and every step_up to CP or CLA, whether an assessment was authorised in the
    reassessment_window_days up to and including the transition date
    (docs/measures/transitions-and-referrals.md#1-threshold-transitions). Null when the drop
    did not carry the assessments. One row per transition. -#}
with

transitions as (

    select * from {{ ref('int_transitions_bridged') }}

),

cin_assessments as (

    select * from {{ ref('stg_ssd__cin_assessments') }}

),

inputs as (

    select * from {{ ref('int_transition_inputs_pivoted') }}

),

assessment_events as (

    {#- assessments and transitions on one timeline per child; an assessment sorts before
        a transition on the same day (authorised on the transition day counts) -#}
    select
        cin_assessments.person_id,
        cin_assessments.authorised_date as event_date,
        0 as event_order,
        cin_assessments.authorised_date as assessment_date
    from cin_assessments
    where
        cin_assessments.person_id is not null
        and cin_assessments.authorised_date is not null

    union all

    select
        transitions.person_id,
        transitions.transition_date as event_date,
        1 as event_order,
        null::date as assessment_date
    from transitions

),

reassessments as (

    {#- latest assessment authorised on or before each transition, kept when it is
        0..reassessment_window_days days before it -#}
    select
        last_found.person_id,
        last_found.event_date as transition_date,
        case
            when
                last_found.last_assessment_date
                >= last_found.event_date - {{ var('reassessment_window_days') }}
                then last_found.last_assessment_date
        end as last_assessment_date

    from (
        select
            assessment_events.person_id,
            assessment_events.event_date,
            assessment_events.event_order,
            max(assessment_events.assessment_date) over (
                partition by assessment_events.person_id
                order by assessment_events.event_date, assessment_events.event_order
                rows between unbounded preceding and current row
            ) as last_assessment_date
        from assessment_events
    ) as last_found
    where last_found.event_order = 1

),

final as (

    select
        transitions.person_id,
        transitions.transition_date,
        case
            when
                transitions.direction = 'step_down'
                or (transitions.direction = 'step_up' and transitions.to_level >= 3)
                then
                    case
                        when not inputs.is_cin_assessments_available then null
                        else coalesce(reassessments.last_assessment_date is not null, false)
                    end
        end as reassessed_before,
        reassessments.last_assessment_date as last_assessment_authorised_date

    from transitions
    cross join inputs
    left join reassessments
        on
            transitions.person_id = reassessments.person_id
            and transitions.transition_date = reassessments.transition_date

)

select * from final
