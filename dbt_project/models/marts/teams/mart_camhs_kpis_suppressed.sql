{#- Published for wider circulation: mart_camhs_kpis with small numbers suppressed
    (macros/small_numbers.sql, docs/measures/teams-and-trends.md#small-numbers). -#}
{{ suppress_kpi_mart(ref('mart_camhs_kpis')) }}
