{#- Published. One row per child looked after on as_of (V3/V4 short breaks left out) with the
    placement-stability flags: pseudonymous child_key, age band and placement type group
    only - no case-system ids, names, dates of birth or postcodes. -#}
with

stability as (

    select * from {{ ref('fct_cla_stability') }}

),

periods as (

    select * from {{ ref('fct_periods_of_care') }}

),

persons as (

    select * from {{ ref('stg_ssd__persons') }}

),

final as (

    select
        stability.as_of,
        {{ child_key('stability.person_id') }} as child_key,
        {{ age_band('persons.date_of_birth', 'stability.as_of') }} as age_band,
        {{ placements_type_group('stability.current_placement_type') }} as placement_type_group,
        stability.legal_status,
        stability.placements_in_last_12_months,
        stability.has_3plus_placements_12m,
        stability.unplanned_endings_12m,
        stability.in_long_term_denominator,
        stability.long_term_stable,
        periods.period_of_care_number,
        periods.is_second_or_subsequent_period,
        periods.second_period_within_12m,
        periods.sgo_breakdown_within_1m,
        periods.returned_to_care_within_12m

    from stability
    inner join periods
        on stability.cla_id = periods.cla_id
    left join persons
        on stability.person_id = persons.person_id

)

select * from final
