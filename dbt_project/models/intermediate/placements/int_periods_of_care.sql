{{ config(materialized='table', post_hook='analyze {{ this }}') }}

{#- One row per period of care (the episodes sharing clae_cla_id), seen from as_of: from the
    first episode's start to the last episode's ceased date; open (end_date null) when the
    last episode has no ceased date or it is after as_of. Episodes starting after as_of are
    ignored. -#}
with

episodes as (

    select * from {{ ref('stg_ssd__cla_episodes') }}
    where start_date <= {{ as_of() }}

),

legal_statuses as (

    select * from {{ ref('stg_ssd__legal_statuses') }}

),

ranked as (

    select
        episodes.*,
        row_number() over (
            partition by episodes.cla_id order by episodes.start_date, episodes.cla_episode_id
        ) as first_rank,
        row_number() over (
            partition by episodes.cla_id
            order by episodes.start_date desc, episodes.cla_episode_id desc
        ) as last_rank,
        count(*) over (partition by episodes.cla_id) as episode_count

    from episodes

),

periods as (

    select
        first_episode.cla_id,
        first_episode.person_id,
        first_episode.start_date,
        first_episode.start_reason,
        first_episode.primary_need_code,
        {{ end_as_of('last_episode.end_date', as_of()) }} as end_date,
        case
            when last_episode.end_date <= {{ as_of() }} then last_episode.end_reason
        end as end_reason,
        first_episode.episode_count::integer as episode_count

    from ranked as first_episode
    inner join ranked as last_episode
        on
            first_episode.cla_id = last_episode.cla_id
            and last_episode.last_rank = 1
    where first_episode.first_rank = 1

),

legal_status_at_start as (

    select
        periods.cla_id,
        legal_statuses.legal_status,
        row_number() over (
            partition by periods.cla_id
            order by legal_statuses.start_date desc, legal_statuses.legal_status_id desc
        ) as recency

    from periods
    inner join legal_statuses
        on
            periods.person_id = legal_statuses.person_id
            and {{ is_open_on(
                'legal_statuses.start_date', 'legal_statuses.end_date', 'periods.start_date'
            ) }}

),

final as (

    select
        periods.cla_id,
        periods.person_id,
        periods.start_date,
        periods.end_date,
        periods.end_reason,
        periods.start_reason,
        periods.primary_need_code,
        periods.episode_count,
        legal_status_at_start.legal_status as legal_status_at_start,
        coalesce(
            legal_status_at_start.legal_status in {{ codes('legal_status', 'short_break') }}, false
        )
            as is_short_break_period

    from periods
    left join legal_status_at_start
        on
            periods.cla_id = legal_status_at_start.cla_id
            and legal_status_at_start.recency = 1

)

select * from final
