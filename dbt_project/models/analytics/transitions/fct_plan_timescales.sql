{#- One row per plan open on as_of
    (docs/measures/transitions-and-referrals.md#5-plans-without-timescales): CIN plans, CP
    plans and periods of care (plan_type CLA, plan_id = clae_cla_id), with their actions
    from ext_plan_actions. Every action column is null (not available) when the drop did not
    carry ext_plan_actions. Person level: restricted schema. -#}
with

cin_plans as (

    select * from {{ ref('stg_ssd__cin_plans') }}

),

cp_plans as (

    select * from {{ ref('stg_ssd__cp_plans') }}

),

cla_periods as (

    select * from {{ ref('int_level_spans_unioned') }}
    where source_type = 'cla_period'

),

plan_actions as (

    select * from {{ ref('stg_ssd__plan_actions') }}

),

inputs as (

    select * from {{ ref('int_transition_inputs_pivoted') }}

),

plans as (

    select
        'CIN' as plan_type,
        cin_plans.cin_plan_id as plan_id,
        cin_plans.person_id,
        cin_plans.start_date,
        {{ end_as_of('cin_plans.end_date', as_of()) }} as end_date
    from cin_plans

    union all

    select
        'CP' as plan_type,
        cp_plans.cp_plan_id as plan_id,
        cp_plans.person_id,
        cp_plans.start_date,
        {{ end_as_of('cp_plans.end_date', as_of()) }} as end_date
    from cp_plans

    union all

    select
        'CLA' as plan_type,
        cla_periods.source_id as plan_id,
        cla_periods.person_id,
        cla_periods.start_date,
        cla_periods.end_date
    from cla_periods

),

open_plans as (

    select
        plans.plan_type,
        plans.plan_id,
        plans.person_id,
        plans.start_date

    from plans
    where {{ is_open_on('plans.start_date', 'plans.end_date', as_of()) }}

),

action_counts as (

    {#- actions recorded on or before as_of (or with no recorded date) -#}
    select
        plan_actions.plan_type,
        plan_actions.plan_id,
        count(*) as actions,
        count(*) filter (where plan_actions.target_date is null) as actions_without_target_date

    from plan_actions
    where plan_actions.recorded_date is null or plan_actions.recorded_date <= {{ as_of() }}
    group by plan_actions.plan_type, plan_actions.plan_id

),

final as (

    select
        open_plans.person_id,
        {{ child_key('open_plans.person_id') }} as child_key,
        open_plans.plan_type,
        open_plans.plan_id,
        open_plans.start_date,
        case
            when inputs.is_plan_actions_available then coalesce(action_counts.actions, 0)
        end::integer as actions,
        case
            when inputs.is_plan_actions_available then coalesce(action_counts.actions, 0) > 0
        end as has_actions,
        case
            when inputs.is_plan_actions_available
                then coalesce(action_counts.actions_without_target_date, 0)
        end::integer as actions_without_target_date,
        case
            when inputs.is_plan_actions_available
                then
                    coalesce(action_counts.actions, 0) > 0
                    and coalesce(action_counts.actions_without_target_date, 0) = 0
        end as all_actions_have_timescales,
        {{ as_of() }} as as_of

    from open_plans
    cross join inputs
    left join action_counts
        on
            open_plans.plan_type = action_counts.plan_type
            and open_plans.plan_id = action_counts.plan_id

)

-- team and worker on as_of (the plans open on as_of)
-- (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.as_of', 'alloc') }}
