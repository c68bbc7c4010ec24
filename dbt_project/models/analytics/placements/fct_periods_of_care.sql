{#- One row per period of care (episodes sharing clae_cla_id) starting on or before as_of,
    numbered per child, with the re-entry measures
    (docs/measures/placements-and-reviews.md#section-2-placement-stability). Short-break
    periods (V3/V4 only) are not periods of care: left out here, so they are not numbered
    and are no "previous period" (they are in fct_short_breaks). A period starts on its
    start_date from int_periods_of_care (the change day after short breaks; the entered-care
    date when care began before the extract). -#}
with

periods as (

    select * from {{ ref('int_periods_of_care') }}
    where not coalesce(is_short_break_period, false)

),

sequenced as (

    select
        periods.*,
        row_number() over (
            partition by periods.person_id order by periods.start_date, periods.cla_id
        )::integer as period_of_care_number,
        lag(periods.start_date)
            over (partition by periods.person_id order by periods.start_date, periods.cla_id)
            as previous_start_date,
        lag(periods.end_date)
            over (partition by periods.person_id order by periods.start_date, periods.cla_id)
            as previous_end_date,
        lag(periods.end_reason)
            over (partition by periods.person_id order by periods.start_date, periods.cla_id)
            as previous_end_reason

    from periods

),

final as (

    select
        person_id,
        cla_id,
        period_of_care_number,
        start_date,
        end_date,
        end_reason,
        start_reason,
        legal_status_at_start,
        is_short_break_period,
        coalesce(began_before_extract, false) as began_before_extract,
        previous_start_date,
        previous_end_date,
        previous_end_reason,
        period_of_care_number >= 2 as is_second_or_subsequent_period,
        coalesce(
            {{ within_months(
                'previous_start_date', 'start_date', var('second_period_window_months')
            ) }},
            false
        ) as second_period_within_12m,
        coalesce(
            previous_end_reason in {{ codes('episode_end_reason', 'special_guardianship_order') }}
            and previous_end_date <= start_date
            and {{ within_months(
                'previous_end_date', 'start_date', var('sgo_breakdown_window_months')
            ) }},
            false
        ) as sgo_breakdown_within_1m,
        coalesce(
            previous_end_date <= start_date
            and {{ within_months(
                'previous_end_date', 'start_date', var('returned_to_care_window_months')
            ) }},
            false
        ) as returned_to_care_within_12m,
        end_reason in {{ codes('episode_end_reason', 'special_guardianship_order') }}
            as ended_with_sgo

    from sequenced

)

-- team and worker on the period of care's start
-- (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.start_date', 'alloc') }}
