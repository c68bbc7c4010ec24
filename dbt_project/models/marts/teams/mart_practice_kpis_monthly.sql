{#- Published. The practice measures the Ofsted letter asks about, per calendar month and
    by team, in the shared long KPI shape (macros/kpi.sql): each event counted in the month
    it is dated and for the team holding the case at the event (int_allocations_dated,
    docs/measures/teams-and-trends.md): reviews by due date, significant changes by the
    day of the change, step-downs by the decision (the team on the last day at the level
    left), and the plans open on as_of (a snapshot: the month of as_of only). The
    approval x stepped-back-up cross-tab is mart_step_down_approval_kpis.
    Definitions: docs/measures/teams-and-trends.md#practice-measures. -#}
with

months as (

    select * from {{ ref('dim_month') }}

),

transitions as (

    select * from {{ ref('fct_threshold_transitions') }}

),

reviews as (

    select * from {{ ref('fct_cla_reviews') }}

),

changes as (

    select * from {{ ref('fct_significant_changes') }}

),

plans as (

    select * from {{ ref('fct_plan_timescales') }}

),

inputs as (

    select * from {{ ref('int_transition_inputs_pivoted') }}

),

availability as (

    {{ tables_available(['ssd_cla_reviews', 'ssd_cla_placement']) }}

),

step_down_counts as (

    select
        transitions.transition_month as month_start,
        {{ team_or_all('transitions.team') }} as team,
        count(*) filter (where transitions.reassessed_before is not null) as step_downs_assessable,
        count(*) filter (where transitions.reassessed_before) as step_downs_reassessed
    from transitions
    where transitions.direction = 'step_down'
    group by grouping sets (
        (transitions.transition_month, transitions.team), (transitions.transition_month)
    )

),

review_counts as (

    select
        date_trunc('month', reviews.due_date)::date as month_start,
        {{ team_or_all('reviews.team') }} as team,
        count(*) as reviews_due,
        count(*) filter (where reviews.on_time) as reviews_on_time,
        count(*) filter (where reviews.overdue) as reviews_overdue
    from reviews
    group by grouping sets (
        (date_trunc('month', reviews.due_date)::date, reviews.team),
        (date_trunc('month', reviews.due_date)::date)
    )

),

change_counts as (

    select
        date_trunc('month', changes.change_date)::date as month_start,
        {{ team_or_all('changes.team') }} as team,
        count(*) filter (
            where changes.review_within_20wd_of_change is not null
        ) as changes_reviewable,
        count(*) filter (where changes.review_within_20wd_of_change) as changes_reviewed
    from changes
    group by grouping sets (
        (date_trunc('month', changes.change_date)::date, changes.team),
        (date_trunc('month', changes.change_date)::date)
    )

),

plan_counts as (

    select
        date_trunc('month', plans.as_of)::date as month_start,
        {{ team_or_all('plans.team') }} as team,
        count(*) as plans_open,
        count(*) filter (where not plans.all_actions_have_timescales) as plans_without_timescales,
        bool_and(plans.all_actions_have_timescales is not null) as has_plan_actions
    from plans
    group by grouping sets (
        (date_trunc('month', plans.as_of)::date, plans.team),
        (date_trunc('month', plans.as_of)::date)
    )

),

counted as (

    select
        {{ month_team_period_columns('months', 'teams') }},
        months.is_current_month,
        inputs.is_cin_assessments_available,
        availability.has_ssd_cla_reviews,
        availability.has_ssd_cla_placement,
        step_down_counts.step_downs_assessable,
        step_down_counts.step_downs_reassessed,
        review_counts.reviews_due,
        review_counts.reviews_on_time,
        review_counts.reviews_overdue,
        change_counts.changes_reviewable,
        change_counts.changes_reviewed,
        plan_counts.plans_open,
        plan_counts.plans_without_timescales,
        coalesce(plan_counts.has_plan_actions, true) as has_plan_actions
    from months
    cross join {{ ref('dim_team') }} as teams
    cross join inputs
    cross join availability
    left join step_down_counts
        on months.month_start = step_down_counts.month_start and teams.team = step_down_counts.team
    left join review_counts
        on months.month_start = review_counts.month_start and teams.team = review_counts.team
    left join change_counts
        on months.month_start = change_counts.month_start and teams.team = change_counts.team
    left join plan_counts
        on months.month_start = plan_counts.month_start and teams.team = plan_counts.team

),

plans_now as (

    {#- plans are a snapshot on as_of: the month of as_of only -#}
    select * from counted
    where is_current_month

),

{%- set measures = [
    {'measure': 'reassessed_before_step_down', 'numerator': 'step_downs_reassessed',
     'denominator': 'step_downs_assessable', 'available': 'counted.is_cin_assessments_available'},
    {'measure': 'reviews_on_time', 'numerator': 'reviews_on_time', 'denominator': 'reviews_due',
     'available': 'counted.has_ssd_cla_reviews'},
    {'measure': 'reviews_overdue', 'numerator': 'reviews_overdue', 'denominator': 'reviews_due',
     'available': 'counted.has_ssd_cla_reviews'},
    {'measure': 'review_after_significant_change', 'numerator': 'changes_reviewed',
     'denominator': 'changes_reviewable',
     'available': 'counted.has_ssd_cla_reviews and counted.has_ssd_cla_placement'},
    {'measure': 'plans_without_timescales', 'numerator': 'plans_without_timescales',
     'denominator': 'plans_open', 'from': 'plans_now',
     'available': 'plans_now.has_plan_actions'},
] %}

final as (

    {{ kpi_rows(measures, from='counted') }}

)

select * from final
