{{ config(materialized='table', post_hook='analyze {{ this }}') }}

{#- One row per clae_cla_id (its episodes), seen from as_of: from the first episode's start to
    the last episode's ceased date; open (end_date null) when the last episode has no ceased
    date or it is after as_of. Episodes starting after as_of are ignored.
    Version 2, section 7 (docs/measures/placements-and-reviews.md#short-breaks-are-not-care):
    - care under legal status V3/V4 (short breaks; the legal status on a day is the open
      stg_ssd__legal_statuses row, latest-starting wins) is not care: care_start_date is the
      first day of the period whose legal status is not a short break (the first episode's
      start, or the start of the first later legal status row that is not V3/V4); a period
      with no such day is a short-break period (care_start_date null);
    - start_date, the period of care's start: the change day for a period that began as
      short breaks; else the earliest of the first episode's start and
      clae_entered_care_date (care that began before the extract's history). -#}
with

episodes as (

    select * from {{ ref('stg_ssd__cla_episodes') }}
    where start_date <= {{ as_of() }}

),

legal_statuses as (

    select * from {{ ref('stg_ssd__legal_statuses') }}
    where start_date <= {{ as_of() }}

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
        count(*) over (partition by episodes.cla_id) as episode_count,
        min(episodes.entered_care_date) over (partition by episodes.cla_id) as entered_care_date_min

    from episodes

),

periods as (

    select
        first_episode.cla_id,
        first_episode.person_id,
        first_episode.start_date as first_episode_start_date,
        first_episode.entered_care_date_min as entered_care_date,
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

-- the days the legal status can change within a period: its first day, and the start of
-- every later legal status row of the child before the period ends
status_days as (

    select
        periods.cla_id,
        periods.person_id,
        periods.first_episode_start_date as status_date

    from periods

    union

    select
        periods.cla_id,
        periods.person_id,
        legal_statuses.start_date as status_date

    from periods
    inner join legal_statuses
        on
            periods.person_id = legal_statuses.person_id
            and periods.first_episode_start_date < legal_statuses.start_date
            and (periods.end_date is null or periods.end_date > legal_statuses.start_date)

),

status_on_day as (

    {{ legal_status_on_day('status_days', 'cla_id') }}

),

care_starts as (

    {#- the first day not under a short-break status (no status recorded on the first day
        counts as care, as in version 1) -#}
    select
        status_on_day.cla_id,
        min(status_on_day.status_date) as care_start_date

    from status_on_day
    inner join periods
        on status_on_day.cla_id = periods.cla_id
    where
        coalesce(status_on_day.legal_status not in {{ codes('legal_status', 'short_break') }}, true)
        and (
            status_on_day.legal_status is not null
            or status_on_day.status_date = periods.first_episode_start_date
        )
    group by status_on_day.cla_id

),

dated as (

    select
        periods.*,
        care_starts.care_start_date,
        case
            when care_starts.care_start_date is null then periods.first_episode_start_date
            when
                care_starts.care_start_date = periods.first_episode_start_date
                and periods.entered_care_date < periods.first_episode_start_date
                then periods.entered_care_date
            else care_starts.care_start_date
        end as start_date

    from periods
    left join care_starts
        on periods.cla_id = care_starts.cla_id

),

final as (

    select
        dated.cla_id,
        dated.person_id,
        dated.start_date,
        dated.end_date,
        dated.end_reason,
        dated.start_reason,
        dated.primary_need_code,
        dated.episode_count,
        status_at_start.legal_status as legal_status_at_start,
        dated.care_start_date is null as is_short_break_period,
        dated.first_episode_start_date,
        dated.care_start_date,
        dated.entered_care_date,
        dated.start_date < dated.first_episode_start_date as began_before_extract,
        case
            when
                dated.care_start_date is null
                or dated.care_start_date > dated.first_episode_start_date
                then dated.first_episode_start_date
        end as short_break_start_date,
        case
            when dated.care_start_date > dated.first_episode_start_date
                then dated.care_start_date
            when dated.care_start_date is null then dated.end_date
        end as short_break_end_date,
        case
            when
                dated.care_start_date is null
                or dated.care_start_date > dated.first_episode_start_date
                then status_at_first_day.legal_status
        end as short_break_legal_status

    from dated
    left join status_on_day as status_at_start
        on
            dated.cla_id = status_at_start.cla_id
            and coalesce(dated.care_start_date, dated.first_episode_start_date)
            = status_at_start.status_date
    left join status_on_day as status_at_first_day
        on
            dated.cla_id = status_at_first_day.cla_id
            and dated.first_episode_start_date = status_at_first_day.status_date

)

select * from final
