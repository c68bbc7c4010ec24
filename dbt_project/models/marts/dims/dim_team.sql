{#- Published dimension: every team a mart can carry: the teams of the allocation timeline
    (int_allocations_dated: the allocated workers' teams and the episodes' own teams),
    `unallocated`, and `all` (the whole authority, the total row of a by-team mart). -#}
with

teams as (

    select distinct allocations.team
    from {{ ref('int_allocations_dated') }} as allocations
    where allocations.team <> 'unallocated'

),

final as (

    select
        teams.team::text as team,
        teams.team::text as team_label,
        'team'::text as team_type,
        false as is_authority_total
    from teams

    union all

    select
        'unallocated'::text as team,
        'Unallocated (no worker and no episode team)'::text as team_label,
        'unallocated'::text as team_type,
        false as is_authority_total

    union all

    select
        {{ authority_team() }}::text as team,
        'All teams (the authority)'::text as team_label,
        'authority'::text as team_type,
        true as is_authority_total

)

select
    final.team,
    final.team_label,
    final.team_type,
    final.is_authority_total,
    (row_number() over (
        order by
            case final.team_type when 'team' then 1 when 'unallocated' then 2 else 3 end,
            final.team
    ))::integer as sort_order
from final
