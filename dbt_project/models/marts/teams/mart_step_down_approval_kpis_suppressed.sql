{#- Published for wider circulation: mart_step_down_approval_kpis with small numbers
    suppressed (macros/small_numbers.sql, docs/measures/teams-and-trends.md#small-numbers). -#}
{{ suppress_small_numbers(
    ref('mart_step_down_approval_kpis'),
    ['measure', 'team', 'period_type', 'period', 'period_start', 'period_end',
     'is_complete_period', 'numerator', 'denominator', 'rate', 'as_of'],
    ['measure', 'period_start'],
) }}
