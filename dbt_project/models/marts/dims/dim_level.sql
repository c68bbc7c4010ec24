{#- Published dimension: the threshold levels 0-4 with their names, so a mart's from_level,
    to_level or level is never a bare number (docs/measures/transitions-and-referrals.md). -#}
{%- set levels = threshold_levels() %}

select
    levels.level::integer as level,
    levels.level_code::text as level_code,
    levels.level_name::text as level_name
from (
    values
    {%- for level, code, name in levels %}
        ({{ level }}, '{{ code }}', '{{ name }}'){{ ',' if not loop.last }}
    {%- endfor %}
) as levels (level, level_code, level_name)
