{#- The step-downs of the last var('step_down_worklist_months') months (transition_date in
    (as_of - N months, as_of]) that close a CIN episode without the manager's approval
    recorded: the step_down rows of fct_threshold_transitions whose
    manager_approval_recorded is false, the one definition the KPI
    (mart_threshold_kpis_monthly manager_approval_rate, mart_step_down_approval_kpis) and the
    GX warning "step_downs: step-down to early help authorised" (expectations/warnings.yml) read too; keep
    the two in step. One row per step-down, naming the first closed CIN episode without both
    ext_close_authorised_by and ext_close_authorised_date (by referral id). Empty when the
    drop did not carry the ext_ columns (manager_approval_recorded is null: not available;
    the GX check records "not available"). docs/measures/transitions-and-referrals.md. -#}
with

step_downs as (

    select * from {{ ref('fct_threshold_transitions') }}
    where
        direction = 'step_down'
        and manager_approval_recorded = false
        and transition_date <= {{ as_of() }}
        and transition_date > (
            {{ as_of() }} - interval '{{ var("step_down_worklist_months") }} months'
        )::date

),

cin_episodes as (

    select * from {{ ref('stg_ssd__cin_episodes') }}

),

final as (

    select
        step_downs.person_id,
        step_downs.unauthorised_referral_id as referral_id,
        cin_episodes.close_date,
        nullif(btrim(cin_episodes.close_authorised_by), '') as close_authorised_by,
        cin_episodes.close_authorised_date,
        concat_ws(
            '; ',
            case
                when nullif(btrim(cin_episodes.close_authorised_by), '') is null
                    then 'authorised by'
            end,
            case when cin_episodes.close_authorised_date is null then 'authorised date' end
        ) as what_is_missing,
        {{ as_of() }} as as_of,
        step_downs.transition_id,
        step_downs.transition_date,
        step_downs.from_level,
        step_downs.to_level,
        step_downs.is_step_down_to_early_help,
        cin_episodes.close_reason,
        step_downs.cin_episodes_closed,
        step_downs.cin_episodes_unauthorised,
        step_downs.team as decision_team

    from step_downs
    left join cin_episodes on step_downs.unauthorised_referral_id = cin_episodes.referral_id

)

-- the child's team and worker on as_of, so the list can be split by team and routed
-- (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc', 'current_') }}
from final
{{ allocation_at('final.person_id', as_of(), 'alloc') }}
