{#- The legal status on a day (docs/measures/placements-and-reviews.md, spec v2 section 7):
    the stg_ssd__legal_statuses row open on that day, the latest-starting when several
    (then the highest id); null when none is recorded. One row per (key, status_date) of
    the `days` relation, which has the columns `key`, person_id and status_date.

        status_on_day as (
            {{ legal_status_on_day('status_days', 'placement_id', 'legal_statuses') }}
        ), -#}
{% macro legal_status_on_day(days, key, legal_statuses='legal_statuses') -%}
    select distinct on ({{ days }}.{{ key }}, {{ days }}.status_date)
        {{ days }}.{{ key }},
        {{ days }}.status_date,
        {{ legal_statuses }}.legal_status

    from {{ days }}
    left join {{ legal_statuses }}
        on
            {{ days }}.person_id = {{ legal_statuses }}.person_id
            and {{ is_open_on(
                legal_statuses ~ '.start_date', legal_statuses ~ '.end_date',
                days ~ '.status_date'
            ) }}
    order by
        {{ days }}.{{ key }} asc,
        {{ days }}.status_date asc,
        {{ legal_statuses }}.start_date desc nulls last,
        {{ legal_statuses }}.legal_status_id desc nulls last
{%- endmacro %}
