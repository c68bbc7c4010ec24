{{
    config(
        materialized='table',
        post_hook='analyze {{ this }}',
        indexes=[
            {'columns': ['calendar_date'], 'unique': True},
            {'columns': ['working_day_ordinal', 'is_working_day']},
        ],
    )
}}

{#- One row per date of the years the bank-holiday seed covers (2000-2035), with the
    working-day ordinal the working-day macros join on. -#}
with

bank_holidays as (

    select * from {{ ref('bank_holidays') }}

),

bounds as (

    select
        date_trunc('year', min(holiday_date))::date as first_date,
        (date_trunc('year', max(holiday_date)) + interval '1 year - 1 day')::date as last_date

    from bank_holidays

),

dates as (

    select calendar_days.calendar_day::date as calendar_date
    from bounds
    cross join lateral generate_series(
        bounds.first_date, bounds.last_date, interval '1 day'
    ) as calendar_days (calendar_day)

),

flagged as (

    select
        dates.calendar_date,
        extract(isodow from dates.calendar_date)::integer as iso_day_of_week,
        exists(
            select 1 from bank_holidays
            where bank_holidays.holiday_date = dates.calendar_date
        ) as is_bank_holiday

    from dates

),

final as (

    select
        calendar_date,
        iso_day_of_week,
        is_bank_holiday,
        (iso_day_of_week < 6 and not is_bank_holiday) as is_working_day,
        sum(case when iso_day_of_week < 6 and not is_bank_holiday then 1 else 0 end)
            over (order by calendar_date rows between unbounded preceding and current row)::integer
            as working_day_ordinal

    from flagged

)

select * from final
