{#- Transitions between collapsed level segments, with short level-0 gaps bridged
    (docs/measures/transitions-and-referrals.md#1-threshold-transitions). A level-0 segment
    between two non-zero levels whose length (segment_end - segment_start = the number of
    days at level 0) is <= transition_gap_days is dropped: the transition goes straight from
    the level before it to the level after it, dated on the day the new level starts, with
    gap_days = that length. A level-0 segment that is longer, or that is still running on
    as_of, is an exit. -#}
with

segments as (

    select * from {{ ref('int_level_segments_collapsed') }}

),

gaps_flagged as (

    select
        segments.person_id,
        segments.segment_number,
        segments.level,
        segments.segment_start,
        segments.segment_end,
        (
            segments.level = 0
            and segments.segment_number > 1
            and segments.segment_end is not null
            and segments.segment_end - segments.segment_start <= {{ var('transition_gap_days') }}
        ) as is_bridged_gap

    from segments

),

gaps_carried as (

    select
        gaps_flagged.person_id,
        gaps_flagged.segment_number,
        gaps_flagged.level,
        gaps_flagged.segment_start,
        gaps_flagged.segment_end,
        gaps_flagged.is_bridged_gap,
        case
            when
                lag(gaps_flagged.is_bridged_gap) over (
                    partition by gaps_flagged.person_id order by gaps_flagged.segment_number
                )
                then gaps_flagged.segment_start - lag(gaps_flagged.segment_start) over (
                    partition by gaps_flagged.person_id order by gaps_flagged.segment_number
                )
        end as bridged_gap_days

    from gaps_flagged

),

kept as (

    select
        gaps_carried.person_id,
        gaps_carried.segment_number,
        gaps_carried.level,
        gaps_carried.segment_start,
        gaps_carried.segment_end,
        gaps_carried.bridged_gap_days,
        lag(gaps_carried.level) over kept_window as previous_level,
        lag(gaps_carried.segment_start) over kept_window as previous_segment_start

    from gaps_carried
    where not gaps_carried.is_bridged_gap
    window kept_window as (
        partition by gaps_carried.person_id order by gaps_carried.segment_number
    )

),

transitions as (

    select
        kept.person_id,
        kept.segment_start as transition_date,
        coalesce(kept.previous_level, 0) as from_level,
        kept.level as to_level,
        case
            -- a child's first involvement: no level-0 run before it to measure
            when kept.previous_level is null then null
            -- after an exit: the whole level-0 run (longer than the gap threshold)
            when kept.previous_level = 0 then kept.segment_start - kept.previous_segment_start
            -- a bridged gap, or 0 for a change from one day to the next
            else coalesce(kept.bridged_gap_days, 0)
        end as gap_days,
        case
            when kept.previous_level is null or kept.previous_level = 0 then null
            else kept.segment_start - coalesce(kept.bridged_gap_days, 0)
        end as from_level_end_date,
        -- an exit still inside its gap window on as_of may yet be bridged by a later drop
        (
            kept.level = 0
            and kept.segment_end is null
            and {{ as_of() }} - kept.segment_start < {{ var('transition_gap_days') }}
        ) as is_provisional

    from kept

),

final as (

    select
        transitions.person_id,
        transitions.transition_date,
        transitions.from_level,
        transitions.to_level,
        transitions.gap_days,
        case
            when transitions.from_level = 0 then 'entry'
            when transitions.to_level = 0 then 'exit'
            when transitions.to_level > transitions.from_level then 'step_up'
            else 'step_down'
        end as direction,
        transitions.from_level_end_date,
        transitions.is_provisional

    from transitions
    -- a bridged gap between two runs of the same level is no transition at all
    where transitions.from_level <> transitions.to_level

)

select * from final
