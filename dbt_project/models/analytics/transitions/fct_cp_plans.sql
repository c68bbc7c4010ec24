{#- One row per child protection plan started on or before as_of
    (docs/measures/transitions-and-referrals.md#4-referral-and-cp-plan-measures): repeat
    plan (DfE, formerly NI 65: any earlier CP plan of the child, however long ago) and
    duration (CIN table D7: ended plans lasting cp_plan_long_duration_years or more). Person
    level: restricted schema. -#}
with

cp_plans as (

    select * from {{ ref('stg_ssd__cp_plans') }}

),

plans as (

    select
        cp_plans.cp_plan_id,
        cp_plans.person_id,
        cp_plans.start_date,
        {{ end_as_of('cp_plans.end_date', as_of()) }} as end_date,
        cp_plans.initial_category,
        cp_plans.latest_category,
        cp_plans.is_other_la_plan

    from cp_plans
    where
        cp_plans.person_id is not null
        and cp_plans.start_date is not null
        and cp_plans.start_date <= {{ as_of() }}

),

numbered as (

    select
        plans.cp_plan_id,
        plans.person_id,
        plans.start_date,
        plans.end_date,
        plans.initial_category,
        plans.latest_category,
        plans.is_other_la_plan,
        count(*) over (
            partition by plans.person_id
            order by plans.start_date
            range between unbounded preceding and interval '1 day' preceding
        ) as earlier_plans,
        row_number() over (
            partition by plans.person_id order by plans.start_date, plans.cp_plan_id
        ) as plan_number

    from plans

),

final as (

    select
        numbered.person_id,
        {{ child_key('numbered.person_id') }} as child_key,
        numbered.cp_plan_id,
        numbered.start_date,
        numbered.end_date,
        date_trunc('month', numbered.start_date)::date as start_month,
        date_trunc('month', numbered.end_date)::date as end_month,
        numbered.initial_category,
        numbered.latest_category,
        numbered.is_other_la_plan,
        numbered.plan_number::integer as plan_number,
        numbered.earlier_plans::integer as earlier_plans,
        numbered.earlier_plans > 0 as is_repeat_plan,
        coalesce(numbered.end_date, {{ as_of() }}) - numbered.start_date as duration_days,
        case
            when numbered.end_date is not null
                then numbered.end_date >= (
                    numbered.start_date
                    + interval '{{ var("cp_plan_long_duration_years") }} years'
                )::date
        end as lasted_2y_plus,
        {{ as_of() }} as as_of

    from numbered

)

-- team and worker on the plan's start, and on its last day once ended (end_team,
-- end_worker_id: null while open) (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }},
    case
        when final.end_date is not null then coalesce(alloc_end.team, 'unallocated')
    end as end_team,
    case
        when final.end_date is not null then coalesce(alloc_end.worker_id, 'unallocated')
    end as end_worker_id
from final
{{ allocation_at('final.person_id', 'final.start_date', 'alloc') }}
{{ allocation_at('final.person_id', '(final.end_date - 1)', 'alloc_end') }}
