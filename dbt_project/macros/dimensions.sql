{#- Labels of the conformed dimensions (docs/measures/teams-and-trends.md#published-star),
    written once: the marts' dims read these lists; data tests check that every code a
    published mart carries is in its dim (relationships). -#}

{#- The threshold levels of docs/measures/transitions-and-referrals.md: (level, code, name). -#}
{% macro threshold_levels() -%}
    {{ return([
        (0, 'none', 'No involvement'),
        (1, 'EH', 'Early help'),
        (2, 'CIN', 'Child in need'),
        (3, 'CP', 'Child protection plan'),
        (4, 'CLA', 'Looked after'),
    ]) }}
{%- endmacro %}

{#- The age bands of age_band() (macros/pseudonymise.sql): (band, label, youngest, oldest). -#}
{% macro age_bands() -%}
    {{ return([
        ('under 1', 'Under 1', 0, 0),
        ('1-4', '1 to 4', 1, 4),
        ('5-9', '5 to 9', 5, 9),
        ('10-15', '10 to 15', 10, 15),
        ('16-17', '16 and 17', 16, 17),
        ('18+', '18 and over', 18, none),
        ('unknown', 'Unknown (no date of birth)', none, none),
    ]) }}
{%- endmacro %}

{#- The team value of the whole authority in by-team marts (docs/measures/kpi-shape.md). -#}
{% macro authority_team() -%}'all'{%- endmacro %}

{#- The team column of a by-team count grouped by grouping sets ((..., team), (...)): the
    team, or `all` on the authority's total row. -#}
{% macro team_or_all(team) -%}
    case when grouping({{ team }}) = 1 then {{ authority_team() }} else {{ team }} end
{%- endmacro %}
