{#- Published. Tonight's headline figures: for the whole authority, each monthly KPI's
    latest complete month (macros/dimensions.sql latest_complete_month_rows()). The publish
    step copies this mart, in the swap's transaction, into the nightly history
    (dq.kpi_headlines_nightly, read back as mart_kpi_headlines_nightly):
    docs/measures/teams-and-trends.md#trends. -#}
with

threshold as (

    {{ latest_complete_month_rows('mart_threshold_kpis_monthly') }}

),

practice as (

    {{ latest_complete_month_rows('mart_practice_kpis_monthly') }}

),

approval as (

    {{ latest_complete_month_rows('mart_step_down_approval_kpis') }}

),

stability as (

    {{ latest_complete_month_rows('mart_cla_stability_monthly') }}

),

final as (

    select * from threshold
    union all
    select * from practice
    union all
    select * from approval
    union all
    select * from stability

)

select * from final
