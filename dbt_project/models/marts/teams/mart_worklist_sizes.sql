{#- Published. How many rows each worklist holds on as_of, per team (the child's current
    team) and for the whole authority (`all`): counts only; the person-level worklists stay
    in analytics, readable by cscw_casework alone. -#}
{%- set worklists = [
    'wl_current_location_unknown',
    'wl_no_current_address',
    'wl_plan_actions_without_target_date',
    'wl_step_down_without_authorisation',
] %}
with

rows_on_lists as (

    {%- for worklist in worklists %}
    select
        '{{ worklist }}'::text as worklist,
        {{ worklist }}.current_team as team,
        {{ worklist }}.person_id
    from {{ ref(worklist) }} as {{ worklist }}
    {{- '\n\n    union all\n' if not loop.last }}
    {%- endfor %}

),

counts as (

    select
        rows_on_lists.worklist,
        {{ team_or_all('rows_on_lists.team') }} as team,
        count(*) as list_rows,
        count(distinct rows_on_lists.person_id) as children
    from rows_on_lists
    group by grouping sets (
        (rows_on_lists.worklist, rows_on_lists.team), (rows_on_lists.worklist)
    )

),

lists as (

    {%- for worklist in worklists %}
    select '{{ worklist }}'::text as worklist
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}

)

select
    lists.worklist,
    teams.team,
    coalesce(counts.list_rows, 0)::integer as list_rows,
    coalesce(counts.children, 0)::integer as children,
    {{ as_of() }} as as_of
from lists
cross join {{ ref('dim_team') }} as teams
left join counts on lists.worklist = counts.worklist and teams.team = counts.team
