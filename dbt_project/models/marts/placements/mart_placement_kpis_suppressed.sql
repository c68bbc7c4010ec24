{#- Published for wider circulation: mart_placement_kpis (reporting years, by team) with
    small numbers suppressed (macros/small_numbers.sql,
    docs/measures/teams-and-trends.md#small-numbers). -#}
{{ suppress_kpi_mart(ref('mart_placement_kpis')) }}
