{#- Published. The cross-tab the Ofsted letter implies, per calendar month and by team: the
    step-downs that close a CIN episode, split by whether the manager's approval of the
    closure is recorded, and of each, how many stepped back up within the window (of those
    whose window has closed by as_of); the same for the step-downs to early help. Each
    step-down is counted in its month for the team that made it (the team holding the case
    on the last day at the level left, int_allocations_dated). Shared long KPI shape
    (macros/kpi.sql). Definitions: docs/measures/teams-and-trends.md#practice-measures. -#}
with

months as (

    select * from {{ ref('dim_month') }}

),

step_downs as (

    select * from {{ ref('fct_threshold_transitions') }}
    where direction = 'step_down' and manager_approval_recorded is not null

),

inputs as (

    select * from {{ ref('int_transition_inputs_pivoted') }}

),

step_down_counts as (

    select
        step_downs.transition_month as month_start,
        {{ team_or_all('step_downs.team') }} as team,
        {{ approval_counts('', 'true') }},
        {{ approval_counts('eh_', 'step_downs.is_step_down_to_early_help') }}
    from step_downs
    group by grouping sets (
        (step_downs.transition_month, step_downs.team), (step_downs.transition_month)
    )

),

counted as (

    select
        {{ month_team_period_columns('months', 'teams') }},
        inputs.is_close_authorisation_available,
        inputs.is_early_help_available,
        step_down_counts.approved,
        step_down_counts.approved_matured,
        step_down_counts.approved_back_up,
        step_down_counts.unapproved,
        step_down_counts.unapproved_matured,
        step_down_counts.unapproved_back_up,
        step_down_counts.eh_approved,
        step_down_counts.eh_approved_matured,
        step_down_counts.eh_approved_back_up,
        step_down_counts.eh_unapproved,
        step_down_counts.eh_unapproved_matured,
        step_down_counts.eh_unapproved_back_up
    from months
    cross join {{ ref('dim_team') }} as teams
    cross join inputs
    left join step_down_counts
        on months.month_start = step_down_counts.month_start and teams.team = step_down_counts.team

),

{%- set approval = 'counted.is_close_authorisation_available' %}
{%- set eh_approval = approval ~ ' and counted.is_early_help_available' %}
{%- set measures = [
    {'measure': 'step_downs_with_approval', 'numerator': 'approved', 'available': approval},
    {'measure': 'step_downs_without_approval', 'numerator': 'unapproved',
     'available': approval},
    {'measure': 'stepped_back_up_with_approval', 'numerator': 'approved_back_up',
     'denominator': 'approved_matured', 'available': approval},
    {'measure': 'stepped_back_up_without_approval', 'numerator': 'unapproved_back_up',
     'denominator': 'unapproved_matured', 'available': approval},
    {'measure': 'eh_step_downs_with_approval', 'numerator': 'eh_approved',
     'available': eh_approval},
    {'measure': 'eh_step_downs_without_approval', 'numerator': 'eh_unapproved',
     'available': eh_approval},
    {'measure': 'eh_stepped_back_up_with_approval', 'numerator': 'eh_approved_back_up',
     'denominator': 'eh_approved_matured', 'available': eh_approval},
    {'measure': 'eh_stepped_back_up_without_approval', 'numerator': 'eh_unapproved_back_up',
     'denominator': 'eh_unapproved_matured', 'available': eh_approval},
] %}

final as (

    {{ kpi_rows(measures, from='counted') }}

)

select * from final
