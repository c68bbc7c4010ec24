{#- Published for wider circulation: mart_practice_kpis_monthly with small numbers suppressed
    (macros/small_numbers.sql, docs/measures/teams-and-trends.md#small-numbers). -#}
{{ suppress_kpi_mart(ref('mart_practice_kpis_monthly')) }}
