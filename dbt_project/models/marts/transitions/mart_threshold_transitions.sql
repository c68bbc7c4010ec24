{#- Published: one row per threshold transition, pseudonymised (child_key, age band at
    the transition; no case-system ids, names or dates of birth). -#}
with

transitions as (

    select * from {{ ref('fct_threshold_transitions') }}

),

final as (

    select
        transitions.child_key,
        transitions.transition_date,
        transitions.transition_month,
        transitions.sex,
        transitions.age_band,
        transitions.team,
        transitions.from_level,
        transitions.to_level,
        transitions.gap_days,
        transitions.direction,
        transitions.is_provisional,
        transitions.is_step_down_to_early_help,
        transitions.stepped_back_up_within_3m,
        transitions.days_to_step_back_up,
        transitions.is_step_back_up_window_closed,
        transitions.reassessed_before,
        transitions.manager_approval_recorded,
        transitions.as_of

    from transitions

)

select * from final
