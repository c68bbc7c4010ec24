{#- One row per change of threshold level of a child
    (docs/measures/transitions-and-referrals.md#1-threshold-transitions), with the flags:
    step-down to early help (here), and the three families computed each in its own
    intermediate model: stepped back up within the window (int_transitions_stepped_back_up),
    re-assessed before (int_transitions_reassessed) and manager approval of the CIN closure
    (int_transitions_approval). Person level: restricted schema. -#}
with

transitions as (

    select * from {{ ref('int_transitions_bridged') }}

),

stepped_back_up as (

    select * from {{ ref('int_transitions_stepped_back_up') }}

),

reassessed as (

    select * from {{ ref('int_transitions_reassessed') }}

),

approval as (

    select * from {{ ref('int_transitions_approval') }}

),

persons as (

    select * from {{ ref('stg_ssd__persons') }}

),

final as (

    select
        transitions.person_id || ':' || transitions.transition_date::text as transition_id,
        transitions.person_id,
        {{ child_key('transitions.person_id') }} as child_key,
        persons.sex,
        {{ age_band('persons.date_of_birth', 'transitions.transition_date') }} as age_band,
        transitions.transition_date,
        date_trunc('month', transitions.transition_date)::date as transition_month,
        transitions.from_level,
        transitions.to_level,
        transitions.gap_days,
        transitions.direction,
        transitions.from_level_end_date,
        transitions.is_provisional,
        (
            transitions.direction = 'step_down' and transitions.to_level = 1
        ) as is_step_down_to_early_help,
        stepped_back_up.stepped_back_up_within_3m,
        stepped_back_up.days_to_step_back_up,
        stepped_back_up.is_step_back_up_window_closed,
        reassessed.reassessed_before,
        reassessed.last_assessment_authorised_date,
        approval.cin_episodes_closed,
        approval.manager_approval_recorded,
        approval.cin_episodes_unauthorised,
        approval.unauthorised_referral_id,
        {{ as_of() }} as as_of

    from transitions
    left join stepped_back_up
        on
            transitions.person_id = stepped_back_up.person_id
            and transitions.transition_date = stepped_back_up.transition_date
    left join reassessed
        on
            transitions.person_id = reassessed.person_id
            and transitions.transition_date = reassessed.transition_date
    left join approval
        on
            transitions.person_id = approval.person_id
            and transitions.transition_date = approval.transition_date
    left join persons on transitions.person_id = persons.person_id

)

-- team and worker at the decision: the last day at the level left (the transition date for
-- an entry)
-- (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at(
    'final.person_id', 'coalesce(final.from_level_end_date - 1, final.transition_date)', 'alloc'
) }}
