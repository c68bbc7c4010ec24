{#- Published. Tonight's headline figures: for the whole authority, each monthly KPI's
    latest complete month. The publish step copies this mart, in the swap's transaction,
    into the nightly history (dq.kpi_headlines_nightly, read back as
    mart_kpi_headlines_nightly): docs/measures/teams-and-trends.md#trends. -#}
{%- set monthly_marts = [
    'mart_threshold_kpis_monthly',
    'mart_practice_kpis_monthly',
    'mart_cla_stability_monthly',
] %}
with

latest as (

    {%- for mart in monthly_marts %}
    select
        '{{ mart }}'::text as source_mart,
        {{ mart }}.measure,
        {{ mart }}.team,
        {{ mart }}.period,
        {{ mart }}.period_start,
        {{ mart }}.numerator,
        {{ mart }}.denominator,
        {{ mart }}.rate,
        {{ mart }}.as_of
    from {{ ref(mart) }} as {{ mart }}
    where
        {{ mart }}.team = {{ authority_team() }}
        and {{ mart }}.is_complete_period
        and {{ mart }}.period_start = (
            select max(latest_month.period_start)
            from {{ ref(mart) }} as latest_month
            where latest_month.is_complete_period
        )
    {{- '\n\n    union all\n' if not loop.last }}
    {%- endfor %}

)

select * from latest
