{#- Team and worker at a date (docs/measures/teams-and-trends.md): attach the allocation
    timeline int_allocations_dated to a fact at its event date, with the span convention
    (macros/spans.sql: on the day of a change the new worker holds the case).

        select ..., {{ allocation_columns('alloc') }}
        from facts
        {{ allocation_at('facts.person_id', 'facts.event_date', 'alloc') }}

    The timeline's spans do not overlap, so the join adds at most one row per fact row and
    never drops one (left join); a child with no span on the day is `unallocated`. -#}
{% macro allocation_at(person_id, day, alias='alloc') -%}
    left join {{ ref('int_allocations_dated') }} as {{ alias }}
        on
            {{ person_id }} = {{ alias }}.person_id
            and {{ is_open_on(alias ~ '.valid_from', alias ~ '.valid_to', day) }}
{%- endmacro %}

{#- The team and worker columns of an allocation_at() join: `team`, `worker_id` (or with a
    prefix: current_team, current_worker_id). -#}
{% macro allocation_columns(alias='alloc', prefix='') -%}
    coalesce({{ alias }}.team, 'unallocated') as {{ prefix }}team,
    coalesce({{ alias }}.worker_id, 'unallocated') as {{ prefix }}worker_id
{%- endmacro %}
