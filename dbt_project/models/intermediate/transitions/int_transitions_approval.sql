{#- Flag family "manager approval" of the threshold transitions fact: the CIN episodes a
    step_down or exit from level >= 2 closes, and whether every one of them records the
    manager's authorisation (docs/measures/transitions-and-referrals.md#1-threshold-transitions).
    Null when the transition closes no CIN episode, or the drop did not carry the ext_
    authorisation columns. Also how many of the closed episodes lack it and the first of
    those (by referral id): the row wl_step_down_without_authorisation lists. One row per
    transition. -#}
with

transitions as (

    select * from {{ ref('int_transitions_bridged') }}

),

cin_episodes as (

    select * from {{ ref('stg_ssd__cin_episodes') }}

),

inputs as (

    select * from {{ ref('int_transition_inputs_pivoted') }}

),

closure_events as (

    {#- CIN closures (episodes of positive length) and transitions on one timeline per
        child; a closure sorts before a transition on the same day -#}
    select
        cin_episodes.person_id,
        cin_episodes.referral_id,
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
        null as referral_id,
        transitions.transition_date as event_date,
        1 as event_order,
        null::boolean as is_authorised
    from transitions

),

closures_assigned as (

    {#- each closure is attributed to the child's first transition on or after it -#}
    select
        closure_events.person_id,
        closure_events.referral_id,
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
        bool_and(closures_assigned.is_authorised) as all_closures_authorised,
        count(*) filter (where not closures_assigned.is_authorised) as cin_episodes_unauthorised,
        min(closures_assigned.referral_id) filter (
            where not closures_assigned.is_authorised
        ) as unauthorised_referral_id

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

final as (

    select
        transitions.person_id,
        transitions.transition_date,
        coalesce(cin_closures.cin_episodes_closed, 0)::integer as cin_episodes_closed,
        case
            when cin_closures.person_id is null then null
            when not inputs.is_close_authorisation_available then null
            else cin_closures.all_closures_authorised
        end as manager_approval_recorded,
        {#- the closed CIN episodes without the authorisation (null when not available), and
            the first of them by id: the referral wl_step_down_without_authorisation lists -#}
        case
            when inputs.is_close_authorisation_available
                then cin_closures.cin_episodes_unauthorised
        end::integer as cin_episodes_unauthorised,
        case
            when inputs.is_close_authorisation_available
                then cin_closures.unauthorised_referral_id
        end as unauthorised_referral_id

    from transitions
    cross join inputs
    left join cin_closures
        on
            transitions.person_id = cin_closures.person_id
            and transitions.transition_date = cin_closures.transition_date

)

select * from final
