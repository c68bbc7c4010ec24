{#- Plans open on as_of (CIN plans, CP plans, periods of care open from their care start:
    int_periods_of_care, so a V3/V4 short-break period is not a care plan, version 2
    section 7) without any action, recorded
    by as_of, that has a target date. Same rows as the GX warning "open_plans: open plan has
    an action with a target date" (expectations/warnings.yml); keep the two in step. -#}
with

cin_plans as (

    select * from {{ ref('stg_ssd__cin_plans') }}

),

cp_plans as (

    select * from {{ ref('stg_ssd__cp_plans') }}

),

periods_of_care as (

    select * from {{ ref('int_periods_of_care') }}
    where care_start_date is not null

),

plan_actions as (

    select * from {{ ref('stg_ssd__plan_actions') }}

),

open_plans as (

    select
        'CIN' as plan_type,
        cin_plan_id as plan_id,
        person_id
    from cin_plans
    where {{ is_open_on('start_date', 'end_date', as_of()) }}

    union all

    select
        'CP' as plan_type,
        cp_plan_id as plan_id,
        person_id
    from cp_plans
    where {{ is_open_on('start_date', 'end_date', as_of()) }}

    union all

    select
        'CLA' as plan_type,
        cla_id as plan_id,
        person_id
    from periods_of_care
    where {{ is_open_on('care_start_date', 'end_date', as_of()) }}

),

actions as (

    select
        plan_type,
        plan_id,
        count(*) as actions,
        count(target_date) as actions_with_target_date

    from plan_actions
    where recorded_date is null or recorded_date <= {{ as_of() }}
    group by plan_type, plan_id

),

final as (

    select
        open_plans.person_id,
        open_plans.plan_type,
        open_plans.plan_id,
        coalesce(actions.actions, 0)::integer as actions,
        case when actions.plan_id is null then 'no actions' else 'no action with a target date' end
            as what_is_missing,
        {{ as_of() }} as as_of

    from open_plans
    left join actions
        on open_plans.plan_type = actions.plan_type and open_plans.plan_id = actions.plan_id
    where coalesce(actions.actions_with_target_date, 0) = 0

)

-- the child's team and worker on as_of, so the list can be split by team and routed
-- (int_allocations_dated, docs/measures/teams-and-trends.md); no rows when the drop did
-- not carry the input (not available: the GX check says so, docs/data-quality.md)
select
    final.*,
    {{ allocation_columns('alloc', 'current_') }}
from final
{{ allocation_at('final.person_id', as_of(), 'alloc') }}
inner join {{ ref('int_check_inputs_pivoted') }} as inputs on inputs.is_plan_actions_available
