{#- Small-number suppression of a published by-team mart (docs/measures/teams-and-trends.md
    #small-numbers), for the marts meant for wider circulation (*_suppressed): a team's row
    whose count (numerator or denominator) is 1 to var('small_number_threshold') - 1 has its
    counts and rate set to null and is_suppressed true (primary suppression). When a group
    (the columns of `group_by`) has exactly one team suppressed, the team with the next
    smallest count is suppressed too, so the authority total less the other teams does not
    give the hidden figure away (secondary suppression). The authority row (`all`) is never
    suppressed. 0 is not a small number.

    relation   the unsuppressed mart (ref)
    group_by   the columns that, with team, key a row (e.g. ['measure', 'period_start'])
    counts     the count columns, the first ones tested (default numerator, denominator)
    nulled     columns set to null with them (default counts + ['rate']) -#}
{% macro suppress_small_numbers(relation, columns, group_by, counts=['numerator', 'denominator'],
    nulled=none) -%}
{%- set threshold = var('small_number_threshold') | int %}
{%- set nulled = nulled if nulled is not none else counts + ['rate'] %}
{%- set partition = group_by | join(', ') %}
with

source as (

    select * from {{ relation }}

),

flagged as (

    select
        source.*,
        source.team <> {{ authority_team() }} and (
            {%- for c in counts %}
            coalesce(source.{{ c }} > 0 and source.{{ c }} < {{ threshold }}, false)
            {{- ' or' if not loop.last }}
            {%- endfor %}
        ) as is_primary,
        least({% for c in counts %}nullif(source.{{ c }}, 0){{ ', ' if not loop.last }}{% endfor %})
            as smallest_count
    from source

),

ranked as (

    select
        flagged.*,
        count(*) filter (where flagged.is_primary) over (partition by {{ partition }})
            as primary_in_group,
        row_number() over (
            partition by {{ partition }}
            order by
                (
                    flagged.team = {{ authority_team() }} or flagged.is_primary
                    or flagged.smallest_count is null
                ),
                flagged.smallest_count,
                flagged.team
        ) as secondary_rank
    from flagged

),

suppressed as (

    select
        ranked.*,
        ranked.is_primary or (
            ranked.primary_in_group = 1
            and ranked.secondary_rank = 1
            and ranked.team <> {{ authority_team() }}
            and not ranked.is_primary
            and ranked.smallest_count is not null
        ) as is_suppressed
    from ranked

)

select
    {%- for col in columns %}
    {%- if col in nulled %}
    case when suppressed.is_suppressed then null else suppressed.{{ col }} end as {{ col }},
    {%- else %}
    suppressed.{{ col }},
    {%- endif %}
    {%- endfor %}
    suppressed.is_suppressed
from suppressed
{%- endmacro %}

{#- A KPI mart in the shared long shape (macros/kpi.sql) with small numbers suppressed. -#}
{% macro suppress_kpi_mart(relation) -%}
{{ suppress_small_numbers(
    relation,
    ['measure', 'team', 'period_type', 'period', 'period_start', 'period_end',
     'is_complete_period', 'numerator', 'denominator', 'rate', 'as_of'],
    ['measure', 'period_start'],
) }}
{%- endmacro %}
