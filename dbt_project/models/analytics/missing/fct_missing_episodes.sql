{#- One row per missing or away-from-placement episode (ssd_missing) starting on or before
    as_of, seen from as_of (an end after as_of is open), with the measures of
    docs/measures/missing-and-timeliness.md: whether the child was looked after when it
    started (the start inside a period of care; short-break periods, V3/V4, are not care),
    days missing, open on as_of ("currently missing"), and the return home interview after an
    ended episode. Null, never 0 or false, when the drop did not carry what a column needs.
    Person level: restricted schema. -#}
with

missing_episodes as (

    select * from {{ ref('stg_ssd__missing_episodes') }}
    where
        start_date is not null
        and start_date <= {{ as_of() }}

),

periods as (

    select * from {{ ref('fct_periods_of_care') }}
    where not coalesce(is_short_break_period, false)

),

inputs as (

    select * from {{ ref('int_timeliness_inputs_pivoted') }}

),

episodes as (

    select
        missing_episodes.missing_episode_id as episode_id,
        missing_episodes.person_id,
        missing_episodes.start_date,
        {{ end_as_of('missing_episodes.end_date', as_of()) }} as end_date,
        upper(nullif(btrim(missing_episodes.missing_type), '')) as missing_type,
        upper(nullif(btrim(missing_episodes.rhi_offered), '')) as rhi_offered_value,
        upper(nullif(btrim(missing_episodes.rhi_accepted), '')) as rhi_accepted_value

    from missing_episodes

),

{# the period of care open on the episode's start day (the latest, should two overlap) #}
period_at_start as (

    select
        episodes.episode_id,
        periods.cla_id,
        row_number() over (
            partition by episodes.episode_id order by periods.start_date desc, periods.cla_id desc
        ) as recency

    from episodes
    inner join periods
        on
            episodes.person_id = periods.person_id
            and {{ is_open_on('periods.start_date', 'periods.end_date', 'episodes.start_date') }}

),

final as (

    select
        episodes.person_id,
        episodes.episode_id,
        episodes.start_date,
        episodes.end_date,
        episodes.missing_type,
        case
            when inputs.is_cla_episodes_available then period_at_start.cla_id is not null
        end as while_looked_after,
        period_at_start.cla_id,
        {# days of the span [start, end) up to and including as_of: an episode that ends the
            day it starts is 0 days; one still open counts as_of #}
        (coalesce(episodes.end_date, {{ as_of() }} + 1) - episodes.start_date)::integer
            as days_missing,
        {{ is_open_on('episodes.start_date', 'episodes.end_date', as_of()) }} as is_open_on_as_of,
        episodes.end_date is not null as is_ended,
        episodes.start_date > (
            {{ as_of() }} - interval '{{ var("missing_lookback_months") }} months'
        )::date as started_in_lookback,
        {# return home interview: after an ended episode only; a blank or N/NA value on an
            ended episode is "not offered / not accepted" #}
        case
            when inputs.is_rhi_offered_available and episodes.end_date is not null
                then coalesce(episodes.rhi_offered_value in ('Y', 'YES'), false)
        end as rhi_offered,
        case
            when inputs.is_rhi_accepted_available and episodes.end_date is not null
                then coalesce(episodes.rhi_accepted_value in ('Y', 'YES'), false)
        end as rhi_accepted,
        {{ as_of() }} as as_of

    from episodes
    cross join inputs
    left join period_at_start
        on
            episodes.episode_id = period_at_start.episode_id
            and period_at_start.recency = 1

)

-- team and worker on the episode's start
-- (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.start_date', 'alloc') }}
