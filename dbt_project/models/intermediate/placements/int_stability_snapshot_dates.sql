{{ config(materialized='table', post_hook='analyze {{ this }}') }}

{#- The dates stability is measured on: 31 March of every year from the first period of
    care up to as_of (the DfE cohort dates), plus as_of itself. Each date closes one
    reporting period: the reporting year 1 April - 31 March, or for as_of (when it is not a
    31 March) the year to date. -#}
with

periods as (

    select * from {{ ref('int_periods_of_care') }}

),

bounds as (

    select
        coalesce(
            extract(year from min(start_date))::integer,
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

all_dates as (

    select snapshot_date from year_ends
    union
    select {{ as_of() }} as snapshot_date

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
        snapshot_date = {{ as_of() }} as is_as_of

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
        is_as_of

    from periods_closed

)

select * from final
