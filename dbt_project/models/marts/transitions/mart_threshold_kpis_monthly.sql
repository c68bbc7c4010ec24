{#- Published: the threshold, referral and CP plan measures per calendar month (counts,
    numerators, denominators, rates). A rate is null when its denominator is 0; every
    figure of a measure is null when the drop did not carry its input. The step-back-up
    rates count only step-downs whose window has closed by as_of (matured), so a recent
    month is not biased towards the children who have already stepped back up. -#}
with

transitions as (

    select * from {{ ref('fct_threshold_transitions') }}

),

referrals as (

    select * from {{ ref('fct_referrals') }}

),

cp_plans as (

    select * from {{ ref('fct_cp_plans') }}

),

inputs as (

    select * from {{ ref('int_transition_inputs_pivoted') }}

),

bounds as (

    select
        least(
            (select min(transitions.transition_month) from transitions),
            (select min(referrals.referral_month) from referrals),
            (select min(cp_plans.start_month) from cp_plans)
        ) as first_month,
        date_trunc('month', {{ as_of() }})::date as last_month

),

months as (

    select
        generate_series(
            bounds.first_month, bounds.last_month, interval '1 month'
        )::date as month_start
    from bounds
    where bounds.first_month is not null

),

transition_counts as (

    select
        transitions.transition_month as month_start,
        count(*) filter (where transitions.direction = 'step_down') as step_downs,
        count(*) filter (
            where transitions.direction = 'step_down'
            and transitions.is_step_back_up_window_closed
        ) as step_downs_matured,
        count(*) filter (
            where transitions.direction = 'step_down'
            and transitions.is_step_back_up_window_closed
            and transitions.stepped_back_up_within_3m
        ) as step_downs_stepped_back_up,
        count(*) filter (where transitions.is_step_down_to_early_help) as step_downs_to_eh,
        count(*) filter (
            where transitions.is_step_down_to_early_help
            and transitions.is_step_back_up_window_closed
        ) as step_downs_to_eh_matured,
        count(*) filter (
            where transitions.is_step_down_to_early_help
            and transitions.is_step_back_up_window_closed
            and transitions.stepped_back_up_within_3m
        ) as step_downs_to_eh_stepped_back_up,
        count(*) filter (
            where transitions.direction = 'step_up' and transitions.to_level >= 3
        ) as step_ups_to_cp_cla,
        count(*) filter (
            where transitions.direction = 'step_up' and transitions.to_level >= 3
            and transitions.reassessed_before
        ) as step_ups_to_cp_cla_reassessed,
        count(*) filter (
            where transitions.direction = 'step_down' and transitions.cin_episodes_closed > 0
        ) as cin_step_downs,
        count(*) filter (
            where transitions.direction = 'step_down' and transitions.cin_episodes_closed > 0
            and transitions.manager_approval_recorded
        ) as cin_step_downs_approved

    from transitions
    group by transitions.transition_month

),

referral_counts as (

    select
        referrals.referral_month as month_start,
        count(*) as referrals,
        count(*) filter (where referrals.is_re_referral) as re_referrals

    from referrals
    group by referrals.referral_month

),

cp_start_counts as (

    select
        cp_plans.start_month as month_start,
        count(*) as cp_plans_started,
        count(*) filter (where cp_plans.is_repeat_plan) as repeat_cp_plans

    from cp_plans
    group by cp_plans.start_month

),

cp_end_counts as (

    select
        cp_plans.end_month as month_start,
        count(*) as cp_plans_ended,
        count(*) filter (where cp_plans.lasted_2y_plus) as cp_plans_ended_2y_plus

    from cp_plans
    where cp_plans.end_month is not null
    group by cp_plans.end_month

),

counted as (

    select
        months.month_start,
        (months.month_start + interval '1 month')::date > {{ as_of() }} as is_partial_month,
        coalesce(transition_counts.step_downs, 0) as step_downs,
        coalesce(transition_counts.step_downs_matured, 0) as step_downs_matured,
        coalesce(transition_counts.step_downs_stepped_back_up, 0)
            as step_downs_stepped_back_up,
        case
            when inputs.is_early_help_available
                then coalesce(transition_counts.step_downs_to_eh, 0)
        end as step_downs_to_eh,
        case
            when inputs.is_early_help_available
                then coalesce(transition_counts.step_downs_to_eh_matured, 0)
        end as step_downs_to_eh_matured,
        case
            when inputs.is_early_help_available
                then coalesce(transition_counts.step_downs_to_eh_stepped_back_up, 0)
        end as step_downs_to_eh_stepped_back_up,
        coalesce(transition_counts.step_ups_to_cp_cla, 0) as step_ups_to_cp_cla,
        case
            when inputs.is_cin_assessments_available
                then coalesce(transition_counts.step_ups_to_cp_cla_reassessed, 0)
        end as step_ups_to_cp_cla_reassessed,
        case
            when inputs.is_close_authorisation_available
                then coalesce(transition_counts.cin_step_downs, 0)
        end as cin_step_downs,
        case
            when inputs.is_close_authorisation_available
                then coalesce(transition_counts.cin_step_downs_approved, 0)
        end as cin_step_downs_approved,
        case
            when inputs.is_cin_episodes_available then coalesce(referral_counts.referrals, 0)
        end as referrals,
        case
            when inputs.is_cin_episodes_available then coalesce(referral_counts.re_referrals, 0)
        end as re_referrals,
        case
            when inputs.is_cp_plans_available
                then coalesce(cp_start_counts.cp_plans_started, 0)
        end as cp_plans_started,
        case
            when inputs.is_cp_plans_available
                then coalesce(cp_start_counts.repeat_cp_plans, 0)
        end as repeat_cp_plans,
        case
            when inputs.is_cp_plans_available then coalesce(cp_end_counts.cp_plans_ended, 0)
        end as cp_plans_ended,
        case
            when inputs.is_cp_plans_available
                then coalesce(cp_end_counts.cp_plans_ended_2y_plus, 0)
        end as cp_plans_ended_2y_plus

    from months
    cross join inputs
    left join transition_counts on months.month_start = transition_counts.month_start
    left join referral_counts on months.month_start = referral_counts.month_start
    left join cp_start_counts on months.month_start = cp_start_counts.month_start
    left join cp_end_counts on months.month_start = cp_end_counts.month_start

),

final as (

    select
        counted.month_start,
        {{ as_of() }} as as_of,
        counted.is_partial_month,
        counted.step_downs::integer as step_downs,
        counted.step_downs_matured::integer as step_downs_matured,
        counted.step_downs_stepped_back_up::integer as step_downs_stepped_back_up,
        {{ transitions_rate('counted.step_downs_stepped_back_up', 'counted.step_downs_matured') }}
            as step_back_up_rate,
        counted.step_downs_to_eh::integer as step_downs_to_eh,
        counted.step_downs_to_eh_matured::integer as step_downs_to_eh_matured,
        counted.step_downs_to_eh_stepped_back_up::integer as step_downs_to_eh_stepped_back_up,
        {{ transitions_rate(
            'counted.step_downs_to_eh_stepped_back_up', 'counted.step_downs_to_eh_matured'
        ) }} as eh_step_back_up_rate,
        counted.step_ups_to_cp_cla::integer as step_ups_to_cp_cla,
        counted.step_ups_to_cp_cla_reassessed::integer as step_ups_to_cp_cla_reassessed,
        {{ transitions_rate(
            'counted.step_ups_to_cp_cla_reassessed', 'counted.step_ups_to_cp_cla'
        ) }} as reassessed_before_step_up_rate,
        counted.cin_step_downs::integer as cin_step_downs,
        counted.cin_step_downs_approved::integer as cin_step_downs_approved,
        {{ transitions_rate('counted.cin_step_downs_approved', 'counted.cin_step_downs') }}
            as manager_approval_rate,
        counted.referrals::integer as referrals,
        counted.re_referrals::integer as re_referrals,
        {{ transitions_rate('counted.re_referrals', 'counted.referrals') }} as re_referral_rate,
        counted.cp_plans_started::integer as cp_plans_started,
        counted.repeat_cp_plans::integer as repeat_cp_plans,
        {{ transitions_rate('counted.repeat_cp_plans', 'counted.cp_plans_started') }}
            as repeat_cp_plan_rate,
        counted.cp_plans_ended::integer as cp_plans_ended,
        counted.cp_plans_ended_2y_plus::integer as cp_plans_ended_2y_plus,
        {{ transitions_rate('counted.cp_plans_ended_2y_plus', 'counted.cp_plans_ended') }}
            as cp_plans_2y_plus_rate

    from counted

)

select * from final
