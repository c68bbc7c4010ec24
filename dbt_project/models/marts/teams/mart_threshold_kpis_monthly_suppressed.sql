{#- Published for wider circulation: mart_threshold_kpis_monthly with small numbers suppressed
    (macros/small_numbers.sql, docs/measures/teams-and-trends.md#small-numbers). -#}
{{ suppress_small_numbers(
    ref('mart_threshold_kpis_monthly'),
    ['measure', 'team', 'period_type', 'period', 'period_start', 'period_end',
     'is_complete_period', 'numerator', 'denominator', 'rate', 'as_of'],
    ['measure', 'period_start'],
) }}
