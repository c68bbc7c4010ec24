{{ config(materialized='table', post_hook='analyze {{ this }}') }}

{#- Placement stability of every child looked after on each snapshot date (each 31 March up
    to as_of, and as_of): the DfE short-term (3+ placements) and long-term stability
    measures, computed as if the snapshot date were as_of. V3/V4 short breaks left out
    (int_cla_snapshot_cohort). A placement is a placement of care from its care_start_date
    (int_placement_spans, section 7: V3/V4 days are not care): it counts in the 12-month
    window when one of its days of care (care_start_date to care_end_date) is in it, its
    long-term clock starts on its first day of care (a placement that began under V3/V4
    and continued when care began: the day care began), and it does not count at a
    snapshot before that day. A placement continued after a temporary one with the same carer is one placement, for the
    count and for the date the current placement started (int_placement_spans,
    docs/measures/placements-and-reviews.md#temporary-placements). -#}
{%- set placement_months = var('long_term_placement_months') -%}
{%- set care_months = var('long_term_care_months') -%}
with

cohort as (

    select * from {{ ref('int_cla_snapshot_cohort') }}

),

placements as (

    select * from {{ ref('int_placement_spans') }}
    where is_counted

),

-- the counted placements each child had started by the snapshot date, with a placement
-- continued after a temporary one (int_placement_spans.continuous_placement_id) taken
-- together as one continuous placement: its first care start, its last end (open when a part
-- is), the latest part's id and type
continuous_placements as (

    select
        cohort.snapshot_date,
        cohort.person_id,
        placements.cla_id,
        placements.continuous_placement_id,
        min(placements.care_start_date) as start_date,
        case
            when bool_or(placements.end_date is null) then null else max(placements.end_date)
        end as end_date,
        (array_agg(
            placements.placement_id
            order by placements.start_date desc, placements.placement_id desc
        ))[1] as placement_id,
        (array_agg(
            placements.placement_type
            order by placements.start_date desc, placements.placement_id desc
        ))[1] as placement_type,
        max(placements.start_date) as latest_part_start_date,
        -- a day of care in the window (window_after, snapshot_date]: start <= d < end
        bool_or(
            placements.care_end_date is null
            or placements.care_end_date
            > greatest(placements.care_start_date, cohort.window_after + 1)
        ) as has_care_in_window,
        count(*) filter (
            where placements.is_unplanned_ending
            and placements.end_date > cohort.window_after
            and placements.end_date <= cohort.snapshot_date
        )::integer as unplanned_endings_in_window,
        min(cohort.window_after) as window_after

    from cohort
    inner join placements
        on
            cohort.person_id = placements.person_id
            and cohort.snapshot_date >= placements.care_start_date
    group by
        cohort.snapshot_date,
        cohort.person_id,
        placements.cla_id,
        placements.continuous_placement_id

),

placement_counts as (

    select
        snapshot_date,
        person_id,
        count(*) filter (where has_care_in_window)::integer as placements_in_window,
        sum(unplanned_endings_in_window)::integer as unplanned_endings_in_window

    from continuous_placements
    group by snapshot_date, person_id

),

-- the current placement (latest-starting counted continuous placement of the open period)
-- and the one immediately before it, in one pass: distinct on keeps the first row, lead()
-- looks back
current_placements as (

    select distinct on (cohort.snapshot_date, cohort.person_id)
        cohort.snapshot_date,
        cohort.person_id,
        placements.placement_id,
        placements.placement_type,
        placements.latest_part_start_date,
        placements.start_date,
        lead(placements.placement_id) over placement_order as previous_placement_id,
        lead(placements.start_date) over placement_order as previous_start_date,
        lead(placements.end_date) over placement_order as previous_end_date

    from cohort
    inner join continuous_placements as placements
        on
            cohort.snapshot_date = placements.snapshot_date
            and cohort.person_id = placements.person_id
            and cohort.cla_id = placements.cla_id
    window
        placement_order as (
            partition by cohort.snapshot_date, cohort.person_id
            order by placements.start_date desc, placements.placement_id desc
        )
    order by
        cohort.snapshot_date asc,
        cohort.person_id asc,
        placements.start_date desc,
        placements.placement_id desc

),

-- adoption exception: the previous placement's length is added before the adoptive one
current_with_adoption as (

    select
        current_placements.*,
        case
            when current_placements.previous_placement_id is not null then (
                current_placements.start_date - (
                    least(
                        coalesce(
                            current_placements.previous_end_date, current_placements.start_date
                        ),
                        current_placements.start_date
                    )
                    - current_placements.previous_start_date
                )
            )
        end as adoption_combined_start_date

    from current_placements

),

measured as (

    select
        cohort.snapshot_date,
        cohort.reporting_year,
        cohort.is_year_end,
        cohort.is_as_of,
        cohort.person_id,
        cohort.cla_id,
        cohort.period_start_date,
        cohort.legal_status,
        cohort.date_of_birth,
        cohort.age_years,
        current_placements.placement_id as current_placement_id,
        current_placements.placement_type as current_placement_type,
        current_placements.latest_part_start_date as current_placement_start_date,
        current_placements.start_date as current_placement_continuous_start_date,
        coalesce(placement_counts.placements_in_window, 0) as placements_in_last_12_months,
        coalesce(placement_counts.unplanned_endings_in_window, 0) as unplanned_endings_12m,
        coalesce(
            cohort.age_years < {{ var('long_term_max_age_years') }}
            and cohort.period_start_date
            <= (cohort.snapshot_date - interval '{{ care_months }} months')::date,
            false
        ) as in_long_term_denominator,
        coalesce(
            current_placements.start_date
            <= (cohort.snapshot_date - interval '{{ placement_months }} months')::date,
            false
        ) as is_placement_long_term,
        coalesce(
            current_placements.placement_type
            in {{ codes('placement_type', 'placed_for_adoption') }}
            and current_placements.adoption_combined_start_date
            <= (cohort.snapshot_date - interval '{{ placement_months }} months')::date,
            false
        ) as is_adoption_long_term

    from cohort
    left join placement_counts
        on
            cohort.snapshot_date = placement_counts.snapshot_date
            and cohort.person_id = placement_counts.person_id
    left join current_with_adoption as current_placements
        on
            cohort.snapshot_date = current_placements.snapshot_date
            and cohort.person_id = current_placements.person_id

),

final as (

    select
        snapshot_date,
        reporting_year,
        is_year_end,
        is_as_of,
        person_id,
        cla_id,
        period_start_date,
        legal_status,
        date_of_birth,
        age_years,
        current_placement_id,
        current_placement_type,
        current_placement_start_date,
        current_placement_continuous_start_date,
        placements_in_last_12_months,
        placements_in_last_12_months >= 3 as has_3plus_placements_12m,
        unplanned_endings_12m,
        in_long_term_denominator,
        case
            when in_long_term_denominator then is_placement_long_term or is_adoption_long_term
        end as long_term_stable

    from measured

)

select * from final
