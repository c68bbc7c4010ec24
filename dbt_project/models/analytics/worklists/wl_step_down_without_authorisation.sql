{#- CIN episodes closed by as_of as a step-down to early help (RC9) without the manager's
    authorisation recorded (ext_close_authorised_by and ext_close_authorised_date).
    Same rows as the GX warning "step_downs: step-down to early help authorised"
    (expectations/warnings.yml); keep the two in step. -#}
with

cin_episodes as (

    select * from {{ ref('stg_ssd__cin_episodes') }}

),

final as (

    select
        person_id,
        referral_id,
        close_date,
        nullif(btrim(close_authorised_by), '') as close_authorised_by,
        close_authorised_date,
        concat_ws(
            '; ',
            case when nullif(btrim(close_authorised_by), '') is null then 'authorised by' end,
            case when close_authorised_date is null then 'authorised date' end
        ) as what_is_missing,
        {{ as_of() }} as as_of

    from cin_episodes
    where
        close_reason = 'RC9'
        and close_date <= {{ as_of() }}
        and not (
            nullif(btrim(close_authorised_by), '') is not null
            and close_authorised_date is not null
        )

)

-- the child's team and worker on as_of, so the list can be split by team and routed
-- (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc', 'current_') }}
from final
{{ allocation_at('final.person_id', as_of(), 'alloc') }}
