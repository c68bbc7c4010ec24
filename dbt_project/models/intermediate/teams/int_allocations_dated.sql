{{ config(materialized='table') }}

-- Team and worker on a date (docs/measures/teams-and-trends.md, spec section 11): per child,
-- a timeline of consecutive spans [valid_from, valid_to) (span convention, end exclusive:
-- on the day of a change the new worker holds the case), each with the allocated worker
-- and their team. Facts attach it at their event date with allocation_at() (macros/
-- allocations.sql); a child with no span on a date is `unallocated`, never a lost row.
--
-- worker: the allocated social worker's involvement (role var('allocated_worker_role'))
--   open on the day; of overlapping ones the latest start wins (ties: the highest
--   involvement id), so an IRO or other role never counts.
-- team: the worker's team (invo_professional_team), else the team of the episode open on
--   the day (CIN plan, assessment, referral, early help episode: the most specific first),
--   else `unallocated`.

with

involvements as (

    select
        inv.person_id,
        inv.involvement_id,
        inv.professional_id as worker_id,
        nullif(trim(inv.team), '') as team,
        inv.start_date,
        inv.end_date
    from {{ ref('stg_ssd__involvements') }} as inv
    where
        inv.professional_role = '{{ var("allocated_worker_role") }}'
        and inv.start_date is not null
        and (inv.end_date is null or inv.end_date > inv.start_date)

),

episode_teams as (

    select
        cin_plans.person_id,
        cin_plans.start_date,
        cin_plans.end_date,
        cin_plans.team,
        1 as specificity
    from {{ ref('stg_ssd__cin_plans') }} as cin_plans

    union all

    select
        assessments.person_id,
        assessments.start_date,
        assessments.authorised_date as end_date,
        assessments.team,
        2 as specificity
    from {{ ref('stg_ssd__cin_assessments') }} as assessments

    union all

    select
        referrals.person_id,
        referrals.referral_date as start_date,
        referrals.close_date as end_date,
        referrals.team,
        3 as specificity
    from {{ ref('stg_ssd__cin_episodes') }} as referrals

    union all

    select
        early_help.person_id,
        early_help.start_date,
        early_help.end_date,
        early_help.organisation as team,
        4 as specificity
    from {{ ref('stg_ssd__early_help_episodes') }} as early_help

),

episode_teams_known as (

    select
        episode_teams.person_id,
        episode_teams.start_date,
        episode_teams.end_date,
        episode_teams.team,
        episode_teams.specificity
    from episode_teams
    where
        nullif(trim(episode_teams.team), '') is not null
        and episode_teams.start_date is not null
        and (episode_teams.end_date is null or episode_teams.end_date > episode_teams.start_date)

),

-- every day on which something starts or ends cuts the child's timeline
boundaries as (

    select
        involvements.person_id,
        involvements.start_date as boundary
    from involvements
    union
    select
        involvements.person_id,
        involvements.end_date as boundary
    from involvements
    where involvements.end_date is not null
    union
    select
        episode_teams_known.person_id,
        episode_teams_known.start_date as boundary
    from episode_teams_known
    union
    select
        episode_teams_known.person_id,
        episode_teams_known.end_date as boundary
    from episode_teams_known
    where episode_teams_known.end_date is not null

),

elementary as (

    select
        boundaries.person_id,
        boundaries.boundary as valid_from,
        lead(boundaries.boundary) over (
            partition by boundaries.person_id order by boundaries.boundary
        ) as valid_to
    from boundaries

),

-- nothing starts or ends inside an elementary span, so what is open on its first day is
-- open on all of it
worker_ranked as (

    select
        elementary.person_id,
        elementary.valid_from,
        involvements.worker_id,
        involvements.team,
        row_number() over (
            partition by elementary.person_id, elementary.valid_from
            order by involvements.start_date desc, involvements.involvement_id desc
        ) as rank_on_day
    from elementary
    inner join involvements
        on
            elementary.person_id = involvements.person_id
            and {{ is_open_on('involvements.start_date', 'involvements.end_date',
                'elementary.valid_from') }}

),

episode_ranked as (

    select
        elementary.person_id,
        elementary.valid_from,
        episode_teams_known.team,
        row_number() over (
            partition by elementary.person_id, elementary.valid_from
            order by
                episode_teams_known.specificity asc,
                episode_teams_known.start_date desc,
                episode_teams_known.team asc
        ) as rank_on_day
    from elementary
    inner join episode_teams_known
        on
            elementary.person_id = episode_teams_known.person_id
            and {{ is_open_on('episode_teams_known.start_date', 'episode_teams_known.end_date',
                'elementary.valid_from') }}

),

resolved as (

    select
        elementary.person_id,
        elementary.valid_from,
        elementary.valid_to,
        coalesce(worker.worker_id, 'unallocated') as worker_id,
        coalesce(worker.team, episode.team, 'unallocated') as team,
        worker.worker_id is not null as is_allocated
    from elementary
    left join worker_ranked as worker
        on
            elementary.person_id = worker.person_id
            and elementary.valid_from = worker.valid_from
            and worker.rank_on_day = 1
    left join episode_ranked as episode
        on
            elementary.person_id = episode.person_id
            and elementary.valid_from = episode.valid_from
            and episode.rank_on_day = 1

),

-- consecutive spans with the same worker and team are one span
changes as (

    select
        resolved.person_id,
        resolved.valid_from,
        resolved.valid_to,
        resolved.worker_id,
        resolved.team,
        resolved.is_allocated,
        case
            when
                lag(resolved.worker_id) over w_person = resolved.worker_id
                and lag(resolved.team) over w_person = resolved.team
                then 0
            else 1
        end as is_change
    from resolved
    window w_person as (partition by resolved.person_id order by resolved.valid_from)

),

islands as (

    select
        changes.person_id,
        changes.valid_from,
        changes.valid_to,
        changes.worker_id,
        changes.team,
        changes.is_allocated,
        sum(changes.is_change) over (
            partition by changes.person_id order by changes.valid_from
        ) as island
    from changes

)

select
    islands.person_id,
    min(islands.valid_from) as valid_from,
    -- the last span of an island ends it; a null end (open) sorts last
    (array_agg(islands.valid_to order by islands.valid_from desc))[1] as valid_to,
    islands.team,
    islands.worker_id,
    bool_or(islands.is_allocated) as is_allocated
from islands
group by islands.person_id, islands.island, islands.team, islands.worker_id
