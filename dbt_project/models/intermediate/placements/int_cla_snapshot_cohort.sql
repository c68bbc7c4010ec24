{{ config(materialized='table', post_hook='analyze {{ this }}') }}

{#- The stability cohorts: every child looked after on each snapshot date (each 31 March up
    to as_of, and as_of), with the period of care open that day (the latest-starting if the
    data has two), the legal status open that day and the age. V3/V4 short breaks left out.
    A table of its own so the measures model joins analysed tables. -#}
{%- set lookback = var('stability_lookback_months') -%}
with

snapshot_dates as (

    select * from {{ ref('int_stability_snapshot_dates') }}

),

periods as (

    select * from {{ ref('int_periods_of_care') }}

),

legal_statuses as (

    select * from {{ ref('stg_ssd__legal_statuses') }}

),

persons as (

    select * from {{ ref('stg_ssd__persons') }}

),

-- a child can have only one open period on a day; if the data has two, the later one wins
looked_after as (

    select distinct on (snapshot_dates.snapshot_date, periods.person_id)
        snapshot_dates.snapshot_date,
        snapshot_dates.reporting_year,
        snapshot_dates.is_year_end,
        snapshot_dates.is_as_of,
        periods.person_id,
        periods.cla_id,
        periods.start_date as period_start_date

    from snapshot_dates
    inner join periods
        on
            {{ is_open_on(
                'periods.start_date', 'periods.end_date', 'snapshot_dates.snapshot_date'
            ) }}
    order by
        snapshot_dates.snapshot_date asc,
        periods.person_id asc,
        periods.start_date desc,
        periods.cla_id desc

),

legal_status_on_day as (

    select distinct on (looked_after.snapshot_date, looked_after.person_id)
        looked_after.snapshot_date,
        looked_after.person_id,
        legal_statuses.legal_status

    from looked_after
    inner join legal_statuses
        on
            looked_after.person_id = legal_statuses.person_id
            and {{ is_open_on(
                'legal_statuses.start_date', 'legal_statuses.end_date', 'looked_after.snapshot_date'
            ) }}
    order by
        looked_after.snapshot_date asc,
        looked_after.person_id asc,
        legal_statuses.start_date desc,
        legal_statuses.legal_status_id desc

),

cohort as (

    select
        looked_after.snapshot_date,
        looked_after.reporting_year,
        looked_after.is_year_end,
        looked_after.is_as_of,
        looked_after.person_id,
        looked_after.cla_id,
        looked_after.period_start_date,
        legal_status_on_day.legal_status,
        persons.date_of_birth,
        date_part('year', age(looked_after.snapshot_date, persons.date_of_birth))::integer
            as age_years,
        -- the look-back window is (snapshot - N months, snapshot]
        (looked_after.snapshot_date - interval '{{ lookback }} months')::date as window_after

    from looked_after
    left join legal_status_on_day
        on
            looked_after.snapshot_date = legal_status_on_day.snapshot_date
            and looked_after.person_id = legal_status_on_day.person_id
    left join persons
        on looked_after.person_id = persons.person_id
    where
        coalesce(
            legal_status_on_day.legal_status not in {{ codes('legal_status', 'short_break') }}, true
        )

),

final as (

    select * from cohort

)

select * from final
