{#- One row per change of threshold level of a child (measures.md s.1), with the flags:
    step-down to early help, stepped back up within the window, re-assessed before, and
    manager approval of the CIN closure. Person level: restricted schema. -#}
with

transitions as (

    select * from {{ ref('int_transitions_bridged') }}

),

persons as (

    select * from {{ ref('stg_ssd__persons') }}

),

cin_episodes as (

    select * from {{ ref('stg_ssd__cin_episodes') }}

),

cin_assessments as (

    select * from {{ ref('stg_ssd__cin_assessments') }}

),

inputs as (

    select * from {{ ref('int_transition_inputs_pivoted') }}

),

next_step_ups as (

    {#- the first step_up after each transition of the same child (a window over the
        child's transitions, no self-join) -#}
    select
        transitions.person_id,
        transitions.transition_date,
        min(case when transitions.direction = 'step_up' then transitions.transition_date end)
            over (
                partition by transitions.person_id
                order by transitions.transition_date
                rows between 1 following and unbounded following
            ) as step_up_date

    from transitions

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

closure_events as (

    {#- CIN closures (episodes of positive length) and transitions on one timeline per
        child; a closure sorts before a transition on the same day -#}
    select
        cin_episodes.person_id,
        cin_episodes.close_date as event_date,
        0 as event_order,
        (
            cin_episodes.close_authorised_by is not null
            and cin_episodes.close_authorised_date is not null
        ) as is_authorised
    from cin_episodes
    where
        cin_episodes.person_id is not null
        and cin_episodes.close_date is not null
        and cin_episodes.close_date <= {{ as_of() }}
        and cin_episodes.referral_date < cin_episodes.close_date

    union all

    select
        transitions.person_id,
        transitions.transition_date as event_date,
        1 as event_order,
        null::boolean as is_authorised
    from transitions

),

closures_assigned as (

    {#- each closure is attributed to the child's first transition on or after it -#}
    select
        closure_events.person_id,
        closure_events.event_date as close_date,
        closure_events.event_order,
        closure_events.is_authorised,
        min(case when closure_events.event_order = 1 then closure_events.event_date end)
            over (
                partition by closure_events.person_id
                order by closure_events.event_date, closure_events.event_order
                rows between current row and unbounded following
            ) as transition_date

    from closure_events

),

cin_closures as (

    {#- the CIN episodes a step_down or exit from level >= 2 closes: those closing on the
        day the previous level ended or in the bridged gap up to the transition date -#}
    select
        transitions.person_id,
        transitions.transition_date,
        count(*) as cin_episodes_closed,
        bool_and(closures_assigned.is_authorised) as all_closures_authorised

    from closures_assigned
    inner join transitions
        on
            closures_assigned.person_id = transitions.person_id
            and closures_assigned.transition_date = transitions.transition_date
    where
        closures_assigned.event_order = 0
        and transitions.direction in ('step_down', 'exit')
        and transitions.from_level >= 2
        and closures_assigned.close_date >= transitions.from_level_end_date
    group by transitions.person_id, transitions.transition_date

),

flagged as (

    select
        transitions.person_id,
        transitions.transition_date,
        transitions.from_level,
        transitions.to_level,
        transitions.gap_days,
        transitions.direction,
        transitions.from_level_end_date,
        transitions.is_provisional,
        (
            transitions.direction = 'step_down' and transitions.to_level = 1
        ) as is_step_down_to_early_help,
        case
            when transitions.direction <> 'step_down' then null
            when
                next_step_ups.step_up_date is not null
                and {{ within_months(
                    'transitions.transition_date',
                    'next_step_ups.step_up_date',
                    var('step_back_up_window_months')
                ) }}
                then true
            -- the window (date, date + N months] has closed by as_of: matured, no step-up
            when
                (
                    transitions.transition_date
                    + interval '{{ var("step_back_up_window_months") }} months'
                )::date <= {{ as_of() }}
                then false
        end as stepped_back_up_within_3m,
        case
            when transitions.direction = 'step_down'
                then next_step_ups.step_up_date - transitions.transition_date
        end as days_to_step_back_up,
        case
            when transitions.direction = 'step_down'
                then (
                    transitions.transition_date
                    + interval '{{ var("step_back_up_window_months") }} months'
                )::date <= {{ as_of() }}
        end as is_step_back_up_window_closed,
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
        reassessments.last_assessment_date as last_assessment_authorised_date,
        coalesce(cin_closures.cin_episodes_closed, 0) as cin_episodes_closed,
        case
            when cin_closures.person_id is null then null
            when not inputs.is_close_authorisation_available then null
            else cin_closures.all_closures_authorised
        end as manager_approval_recorded

    from transitions
    cross join inputs
    left join next_step_ups
        on
            transitions.person_id = next_step_ups.person_id
            and transitions.transition_date = next_step_ups.transition_date
    left join reassessments
        on
            transitions.person_id = reassessments.person_id
            and transitions.transition_date = reassessments.transition_date
    left join cin_closures
        on
            transitions.person_id = cin_closures.person_id
            and transitions.transition_date = cin_closures.transition_date

),

final as (

    select
        flagged.person_id || ':' || flagged.transition_date::text as transition_id,
        flagged.person_id,
        {{ child_key('flagged.person_id') }} as child_key,
        persons.sex,
        {{ age_band('persons.date_of_birth', 'flagged.transition_date') }} as age_band,
        flagged.transition_date,
        date_trunc('month', flagged.transition_date)::date as transition_month,
        flagged.from_level,
        flagged.to_level,
        flagged.gap_days,
        flagged.direction,
        flagged.from_level_end_date,
        flagged.is_provisional,
        flagged.is_step_down_to_early_help,
        flagged.stepped_back_up_within_3m,
        flagged.days_to_step_back_up,
        flagged.is_step_back_up_window_closed,
        flagged.reassessed_before,
        flagged.last_assessment_authorised_date,
        flagged.cin_episodes_closed::integer as cin_episodes_closed,
        flagged.manager_approval_recorded,
        {{ as_of() }} as as_of

    from flagged
    left join persons on flagged.person_id = persons.person_id

)

select * from final
