{#- Published for wider circulation: mart_worklist_sizes with small numbers suppressed
    (macros/small_numbers.sql, docs/measures/teams-and-trends.md#small-numbers). -#}
{{ suppress_small_numbers(
    ref('mart_worklist_sizes'),
    ['worklist', 'team', 'list_rows', 'children', 'as_of'],
    ['worklist'],
    counts=['list_rows', 'children'],
    nulled=['list_rows', 'children'],
) }}
