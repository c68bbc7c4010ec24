{{ config(materialized='table', post_hook='analyze {{ this }}') }}

{#- The dates stability is measured on: 31 March of every year from the first period of
    care up to as_of (the DfE cohort dates), plus as_of itself. Each date closes one
    reporting period: the reporting year 1 April - 31 March, or for as_of (when it is not a
    31 March) the year to date. Also the last day of each of the var('trend_months') months
    before as_of's (is_trend_month_end), for the monthly series
    (docs/measures/teams-and-trends.md#trends); consumers of the reporting years keep
    is_year_end or is_as_of. -#}
with

periods as (

    select * from {{ ref('int_periods_of_care') }}

),

bounds as (

    select
        coalesce(
            -- the extract's history: the first episode, not an earlier entered-care date
            extract(year from min(coalesce(first_episode_start_date, start_date)))::integer,
            extract(year from {{ as_of() }})::integer
        ) as first_year,
        extract(year from {{ as_of() }})::integer as last_year

    from periods

),

year_ends as (

    select make_date(years.year_number, 3, 31) as snapshot_date
    from bounds
    cross join lateral generate_series(bounds.first_year, bounds.last_year) as years (year_number)
    where make_date(years.year_number, 3, 31) <= {{ as_of() }}

),

trend_month_ends as (

    select
        (
            date_trunc('month', {{ as_of() }})
            - (months.months_back * interval '1 month')
            - interval '1 day'
        )::date as snapshot_date
    from generate_series(0, {{ var('trend_months') }} - 1) as months (months_back)

),

all_dates as (

    select snapshot_date from year_ends
    union
    select {{ as_of() }} as snapshot_date
    union
    select snapshot_date from trend_month_ends

),

periods_closed as (

    select
        snapshot_date,
        -- the reporting year the date falls in: 1 April (Y-1) to 31 March Y, labelled 'Y-1-YY'
        (
            case
                when extract(month from snapshot_date) >= 4
                    then make_date(extract(year from snapshot_date)::integer, 4, 1)
                else make_date(extract(year from snapshot_date)::integer - 1, 4, 1)
            end
        ) as period_start,
        snapshot_date as period_end,
        (extract(month from snapshot_date) = 3 and extract(day from snapshot_date) = 31)
            as is_year_end,
        snapshot_date = {{ as_of() }} as is_as_of,
        snapshot_date in (select trend_month_ends.snapshot_date from trend_month_ends)
            as is_trend_month_end

    from all_dates

),

final as (

    select
        snapshot_date,
        period_start,
        period_end,
        extract(year from period_start)::integer::text
        || '-' || lpad(((extract(year from period_start)::integer + 1) % 100)::text, 2, '0')
            as reporting_year,
        is_year_end,
        is_as_of,
        is_trend_month_end

    from periods_closed

)

select * from final
