{#- Published dimension: calendar months from the first month any record starts
    (referral, CP plan, care, early help; or the month before the trend window of
    var trend_months month-ends, whose first month-end ends it, if earlier)
    to the month of as_of, with the reporting year (1 April - 31 March), quarters and the
    flags a BI user filters on. The key month_start
    joins to a KPI mart's period_start (period_type 'month'). -#}
with

bounds as (

    select
        date_trunc('month', {{ as_of() }})::date as last_month,
        least(
            (
                date_trunc('month', {{ as_of() }})
                - interval '{{ var("trend_months") }} months'
            )::date,
            (
                select date_trunc('month', min(referrals.referral_date))::date
                from {{ ref('stg_ssd__cin_episodes') }} as referrals
            ),
            (
                select date_trunc('month', min(cla.start_date))::date
                from {{ ref('stg_ssd__cla_episodes') }} as cla
            ),
            (
                select date_trunc('month', min(early_help.start_date))::date
                from {{ ref('stg_ssd__early_help_episodes') }} as early_help
            ),
            (
                select date_trunc('month', min(cp_plans.start_date))::date
                from {{ ref('stg_ssd__cp_plans') }} as cp_plans
            ),
            (
                select date_trunc('month', min(cla.entered_care_date))::date
                from {{ ref('stg_ssd__cla_episodes') }} as cla
            )
        ) as first_month

),

months as (

    {#- the month series and the complete-month rule of every monthly mart (kpi_months(),
        macros/kpi.sql: complete when as_of >= the month's last day) -#}
    {{ kpi_months('(select bounds.first_month from bounds)') }}

),

described as (

    select
        months.month_start,
        months.month_last_day as month_end,
        extract(year from months.month_start)::integer as calendar_year,
        extract(month from months.month_start)::integer as calendar_month,
        (
            extract(year from months.month_start)::integer
            - case when extract(month from months.month_start) < 4 then 1 else 0 end
        ) as reporting_year_start,
        ((extract(month from months.month_start)::integer + 8) % 12) + 1
            as month_of_reporting_year,
        (
            extract(year from {{ as_of() }})::integer * 12
            + extract(month from {{ as_of() }})::integer
            - extract(year from months.month_start)::integer * 12
            - extract(month from months.month_start)::integer
        ) as months_before_as_of,
        months.is_complete_month,
        {#- a quarter is complete when its last month is (the same rule) -#}
        {{ is_complete_month(
            "date_trunc('quarter', months.month_start) + interval '2 months'"
        ) }} as is_complete_quarter,
        date_trunc('quarter', months.month_start)::date as quarter_start
    from months

),

final as (

    select
        described.month_start,
        to_char(described.month_start, 'YYYY-MM') as period,
        described.month_end,
        to_char(described.month_start, 'FMMonth YYYY') as month_label,
        described.calendar_year,
        described.calendar_month,
        described.quarter_start,
        to_char(described.quarter_start, 'YYYY "Q"Q') as quarter_label,
        described.reporting_year_start::text
        || '-' || lpad(((described.reporting_year_start + 1) % 100)::text, 2, '0')
            as reporting_year,
        make_date(described.reporting_year_start, 4, 1) as reporting_year_start_date,
        described.month_of_reporting_year,
        described.months_before_as_of,
        described.is_complete_month,
        described.months_before_as_of = 0 as is_current_month,
        described.is_complete_month
        and described.month_start = max(described.month_start) filter (
            where described.is_complete_month
        ) over () as is_latest_complete_month,
        described.is_complete_quarter
        and described.quarter_start = max(described.quarter_start) filter (
            where described.is_complete_quarter
        ) over () as is_latest_complete_quarter,
        described.is_complete_month
        and described.month_start >= (
            max(described.month_start) filter (where described.is_complete_month) over ()
            - interval '11 months'
        ) as is_in_last_12_complete_months,
        described.months_before_as_of < {{ var('trend_months') }} as is_in_trend_window,
        make_date(
            extract(year from {{ as_of() }})::integer
            - case when extract(month from {{ as_of() }}) < 4 then 1 else 0 end, 4, 1
        ) = make_date(described.reporting_year_start, 4, 1) as is_current_reporting_year,
        {{ as_of() }} as as_of
    from described

)

select * from final
