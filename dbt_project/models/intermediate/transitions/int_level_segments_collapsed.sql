{#- Each child's level over time without a day grain: the span boundaries (every start and
    every end) cut the timeline into segments on which nothing starts or ends, so the
    level is constant on each and equals the highest level of the spans open on its first
    day (is_open_on: start <= d < end). Consecutive segments of equal level are then
    collapsed. Level-0 segments (nothing open) are kept; the last segment is open-ended
    (segment_end null). -#}
with

spans as (

    select * from {{ ref('int_level_spans_unioned') }}

),

boundaries as (

    select
        spans.person_id,
        spans.start_date as boundary_date
    from spans

    union

    select
        spans.person_id,
        spans.end_date as boundary_date
    from spans
    where spans.end_date is not null

),

segments as (

    select
        boundaries.person_id,
        boundaries.boundary_date as segment_start,
        lead(boundaries.boundary_date) over (
            partition by boundaries.person_id order by boundaries.boundary_date
        ) as segment_end

    from boundaries

),

levelled as (

    select
        segments.person_id,
        segments.segment_start,
        segments.segment_end,
        coalesce(max(spans.level), 0) as level

    from segments
    left join spans
        on
            segments.person_id = spans.person_id
            and {{ is_open_on('spans.start_date', 'spans.end_date', 'segments.segment_start') }}
    group by segments.person_id, segments.segment_start, segments.segment_end

),

islands_marked as (

    select
        levelled.person_id,
        levelled.segment_start,
        levelled.segment_end,
        levelled.level,
        case
            when
                levelled.level = lag(levelled.level) over (
                    partition by levelled.person_id order by levelled.segment_start
                )
                then 0
            else 1
        end as is_new_island

    from levelled

),

islands_numbered as (

    select
        islands_marked.person_id,
        islands_marked.segment_start,
        islands_marked.segment_end,
        islands_marked.level,
        sum(islands_marked.is_new_island) over (
            partition by islands_marked.person_id order by islands_marked.segment_start
            rows between unbounded preceding and current row
        ) as island_number

    from islands_marked

),

final as (

    select
        islands_numbered.person_id,
        islands_numbered.island_number::integer as segment_number,
        islands_numbered.level,
        min(islands_numbered.segment_start) as segment_start,
        case
            when bool_or(islands_numbered.segment_end is null) then null
            else max(islands_numbered.segment_end)
        end as segment_end

    from islands_numbered
    group by islands_numbered.person_id, islands_numbered.island_number, islands_numbered.level

)

select * from final
