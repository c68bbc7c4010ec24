{#- Flag family "stepped back up" of the threshold transitions fact: for every step_down,
    whether the child stepped back up (any step_up) within step_back_up_window_months
    (docs/measures/transitions-and-referrals.md#1-threshold-transitions), the days it took,
    and whether the window has closed by as_of (matured). One row per transition; null on
    rows that are not step-downs. -#}
with

transitions as (

    select * from {{ ref('int_transitions_bridged') }}

),

next_step_ups as (

    {#- the first step_up after each transition of the same child (a window over the
        child's transitions, no self-join) -#}
    select
        transitions.person_id,
        transitions.transition_date,
        transitions.direction,
        min(case when transitions.direction = 'step_up' then transitions.transition_date end)
            over (
                partition by transitions.person_id
                order by transitions.transition_date
                rows between 1 following and unbounded following
            ) as step_up_date

    from transitions

),

final as (

    select
        next_step_ups.person_id,
        next_step_ups.transition_date,
        case
            when next_step_ups.direction <> 'step_down' then null
            when
                next_step_ups.step_up_date is not null
                and {{ within_months(
                    'next_step_ups.transition_date',
                    'next_step_ups.step_up_date',
                    var('step_back_up_window_months')
                ) }}
                then true
            -- the window (date, date + N months] has closed by as_of: matured, no step-up
            when
                (
                    next_step_ups.transition_date
                    + interval '{{ var("step_back_up_window_months") }} months'
                )::date <= {{ as_of() }}
                then false
        end as stepped_back_up_within_3m,
        case
            when next_step_ups.direction = 'step_down'
                then next_step_ups.step_up_date - next_step_ups.transition_date
        end as days_to_step_back_up,
        case
            when next_step_ups.direction = 'step_down'
                then (
                    next_step_ups.transition_date
                    + interval '{{ var("step_back_up_window_months") }} months'
                )::date <= {{ as_of() }}
        end as is_step_back_up_window_closed

    from next_step_ups

)

select * from final
