{#- Published: the threshold, referral and CP plan measures per calendar month, in the
    shared long KPI shape (macros/kpi.sql, docs/measures/kpi-shape.md): one row per measure
    x team x month with numerator, denominator and rate. A rate is null when its
    denominator is 0; every figure of a measure is null when the drop did not carry its
    input. The step-back-up rates count only step-downs whose window has closed by as_of
    (matured), so a recent month is not biased towards the children who have already
    stepped back up. Definitions: docs/measures/transitions-and-referrals.md. -#}
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

{# from the first month any transition, referral or CP plan is dated to as_of's month;
   none when there is none (kpi_months(), macros/kpi.sql) #}
months as (

    {{ kpi_months(
        'least(
            (select min(transitions.transition_month) from transitions),
            (select min(referrals.referral_month) from referrals),
            (select min(cp_plans.start_month) from cp_plans)
        )',
        required=true
    ) }}

),

transition_counts as (

    select
        transitions.transition_month as month_start,
        {{ team_or_all('transitions.team') }} as team,
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
    group by grouping sets (
        (transitions.transition_month, transitions.team), (transitions.transition_month)
    )

),

referral_counts as (

    select
        referrals.referral_month as month_start,
        {{ team_or_all('referrals.team') }} as team,
        count(*) as referrals,
        count(*) filter (where referrals.is_re_referral) as re_referrals

    from referrals
    group by grouping sets ((referrals.referral_month, referrals.team), (referrals.referral_month))

),

cp_start_counts as (

    select
        cp_plans.start_month as month_start,
        {{ team_or_all('cp_plans.team') }} as team,
        count(*) as cp_plans_started,
        count(*) filter (where cp_plans.is_repeat_plan) as repeat_cp_plans

    from cp_plans
    group by grouping sets ((cp_plans.start_month, cp_plans.team), (cp_plans.start_month))

),

cp_end_counts as (

    select
        cp_plans.end_month as month_start,
        {{ team_or_all('cp_plans.end_team') }} as team,
        count(*) as cp_plans_ended,
        count(*) filter (where cp_plans.lasted_2y_plus) as cp_plans_ended_2y_plus

    from cp_plans
    where cp_plans.end_month is not null
    group by grouping sets ((cp_plans.end_month, cp_plans.end_team), (cp_plans.end_month))

),

counted as (

    {#- one row per team x month with every count: each team of dim_team (the team at the
        event, docs/measures/teams-and-trends.md) and `all`, the whole authority -#}
    select
        {{ kpi_month_columns('months', 'teams.team') }},
        inputs.is_early_help_available,
        inputs.is_cin_assessments_available,
        inputs.is_close_authorisation_available,
        inputs.is_cin_episodes_available,
        inputs.is_cp_plans_available,
        transition_counts.step_downs,
        transition_counts.step_downs_matured,
        transition_counts.step_downs_stepped_back_up,
        transition_counts.step_downs_to_eh,
        transition_counts.step_downs_to_eh_matured,
        transition_counts.step_downs_to_eh_stepped_back_up,
        transition_counts.step_ups_to_cp_cla,
        transition_counts.step_ups_to_cp_cla_reassessed,
        transition_counts.cin_step_downs,
        transition_counts.cin_step_downs_approved,
        referral_counts.referrals,
        referral_counts.re_referrals,
        cp_start_counts.cp_plans_started,
        cp_start_counts.repeat_cp_plans,
        cp_end_counts.cp_plans_ended,
        cp_end_counts.cp_plans_ended_2y_plus

    from months
    cross join {{ ref('dim_team') }} as teams
    cross join inputs
    left join transition_counts
        on
            months.month_start = transition_counts.month_start
            and teams.team = transition_counts.team
    left join referral_counts
        on
            months.month_start = referral_counts.month_start
            and teams.team = referral_counts.team
    left join cp_start_counts
        on
            months.month_start = cp_start_counts.month_start
            and teams.team = cp_start_counts.team
    left join cp_end_counts
        on
            months.month_start = cp_end_counts.month_start
            and teams.team = cp_end_counts.team

),

{#- the measures, each written once: its name, its counts and the input it needs -#}
{%- set measures = [
    {'measure': 'step_downs', 'numerator': 'step_downs'},
    {'measure': 'step_back_up_rate',
     'numerator': 'step_downs_stepped_back_up', 'denominator': 'step_downs_matured'},
    {'measure': 'step_downs_to_eh', 'numerator': 'step_downs_to_eh',
     'available': 'counted.is_early_help_available'},
    {'measure': 'eh_step_back_up_rate',
     'numerator': 'step_downs_to_eh_stepped_back_up', 'denominator': 'step_downs_to_eh_matured',
     'available': 'counted.is_early_help_available'},
    {'measure': 'step_ups_to_cp_cla', 'numerator': 'step_ups_to_cp_cla'},
    {'measure': 'reassessed_before_step_up_rate',
     'numerator': 'step_ups_to_cp_cla_reassessed', 'denominator': 'step_ups_to_cp_cla',
     'available': 'counted.is_cin_assessments_available'},
    {'measure': 'manager_approval_rate',
     'numerator': 'cin_step_downs_approved', 'denominator': 'cin_step_downs',
     'available': 'counted.is_close_authorisation_available'},
    {'measure': 're_referral_rate', 'numerator': 're_referrals', 'denominator': 'referrals',
     'available': 'counted.is_cin_episodes_available'},
    {'measure': 'repeat_cp_plan_rate',
     'numerator': 'repeat_cp_plans', 'denominator': 'cp_plans_started',
     'available': 'counted.is_cp_plans_available'},
    {'measure': 'cp_plans_2y_plus_rate',
     'numerator': 'cp_plans_ended_2y_plus', 'denominator': 'cp_plans_ended',
     'available': 'counted.is_cp_plans_available'},
] %}

final as (

    {{ kpi_rows(measures, from='counted') }}

)

select * from final
