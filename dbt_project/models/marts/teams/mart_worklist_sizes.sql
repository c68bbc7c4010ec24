{#- Published. How many rows each worklist holds on as_of, per team (the child's current
    team) and for the whole authority (`all`): counts only; the person-level worklists stay
    in analytics, readable by cscw_casework alone. An empty list shows 0, not nothing. -#}
with

rows_on_lists as (

    {{ worklist_rows('wl_current_location_unknown') }}
    union all
    {{ worklist_rows('wl_no_current_address') }}
    union all
    {{ worklist_rows('wl_plan_actions_without_target_date') }}
    union all
    {{ worklist_rows('wl_step_down_without_authorisation') }}

),

lists as (

    select lists.worklist
    from (
        values
        ('wl_current_location_unknown'),
        ('wl_no_current_address'),
        ('wl_plan_actions_without_target_date'),
        ('wl_step_down_without_authorisation')
    ) as lists (worklist)

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
