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

{#- The placement type groups of placements_type_group() (macros/placements_type_group.sql;
    the codes of each are the placement_type rows of seeds/code_groupings.csv), with labels
    and their order: (group, label). `other` also takes a code the seed does not list,
    `unknown` is a child with no placement recorded (dim_placement_type_group). -#}
{% macro placement_type_groups() -%}
    {{ return([
        ('foster_kinship', 'Foster care with relatives or friends (kinship/connected carers)'),
        ('foster_other', 'Foster care with other foster carers'),
        ('placed_for_adoption', 'Placed for adoption'),
        ('with_parents', 'Placed with parents or others with parental responsibility'),
        ('independent_or_supported', 'Independent living or supported accommodation'),
        ('secure_or_childrens_home', "Secure unit or children's home"),
        ('other_residential', 'Other residential settings'),
        ('residential_school', 'Residential school'),
        ('temporary', 'Temporary placement'),
        ('other', 'Other placements'),
        ('unknown', 'No placement recorded'),
    ]) }}
{%- endmacro %}

{#- The team value of the whole authority in by-team marts (docs/measures/kpi-shape.md). -#}
{% macro authority_team() -%}'all'{%- endmacro %}

{#- The team column of a by-team count grouped by grouping sets ((..., team), (...)): the
    team, or `all` on the authority's total row. -#}
{% macro team_or_all(team) -%}
    case when grouping({{ team }}) = 1 then {{ authority_team() }} else {{ team }} end
{%- endmacro %}

{#- The authority's rows of a monthly KPI mart in its latest complete month (mart_kpi_headlines). -#}
{% macro latest_complete_month_rows(mart) -%}
    select
        '{{ mart }}'::text as source_mart,
        kpis.measure,
        kpis.team,
        kpis.period,
        kpis.period_start,
        kpis.numerator,
        kpis.denominator,
        kpis.rate,
        kpis.as_of
    from {{ ref(mart) }} as kpis
    where
        kpis.team = {{ authority_team() }}
        and kpis.is_complete_period
        and kpis.period_start = (
            select max(latest_month.period_start)
            from {{ ref(mart) }} as latest_month
            where latest_month.is_complete_period
        )
{%- endmacro %}

{#- A worklist's rows with the child's current team (mart_worklist_sizes). -#}
{% macro worklist_rows(worklist) -%}
    select
        '{{ worklist }}'::text as worklist,
        worklist_rows.current_team as team,
        worklist_rows.person_id
    from {{ ref(worklist) }} as worklist_rows
{%- endmacro %}

{#- The counts of the approval x stepped-back-up cross-tab (mart_step_down_approval_kpis) of
    the step-downs meeting `condition`: <prefix>approved, <prefix>approved_matured,
    <prefix>approved_back_up and the same for unapproved. -#}
{% macro approval_counts(prefix, condition) -%}
    {%- for name, approved in [('approved', ''), ('unapproved', 'not ')] %}
    count(*) filter (
        where {{ condition }} and {{ approved }}step_downs.manager_approval_recorded
    ) as {{ prefix }}{{ name }},
    count(*) filter (
        where
            {{ condition }} and {{ approved }}step_downs.manager_approval_recorded
            and step_downs.is_step_back_up_window_closed
    ) as {{ prefix }}{{ name }}_matured,
    count(*) filter (
        where
            {{ condition }} and {{ approved }}step_downs.manager_approval_recorded
            and step_downs.is_step_back_up_window_closed
            and step_downs.stepped_back_up_within_3m
    ) as {{ prefix }}{{ name }}_back_up{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- A select's columns saying whether each table was in tonight's drop (a table is available
    unless the load recorded it as absent, as in mart_placement_kpis): has_<table> for each
    of `tables`, from stg_cscw__load_files. -#}
{% macro tables_available(tables) -%}
    select
        {%- for table in tables %}
        not coalesce(bool_or(not load_files.is_available) filter (
            where load_files.table_name = '{{ table }}'
        ), false) as has_{{ table }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('stg_cscw__load_files') }} as load_files
{%- endmacro %}

{#- The period columns of a month x team KPI row (macros/kpi.sql shape) from dim_month
    `months` and dim_team `teams`. -#}
{% macro month_team_period_columns(months='months', teams='teams') -%}
    {{ teams }}.team,
        'month' as period_type,
        {{ months }}.period,
        {{ months }}.month_start as period_start,
        least({{ months }}.month_end, {{ as_of() }}) as period_end,
        {{ months }}.is_complete_month as is_complete_period,
        {{ as_of() }} as as_of
{%- endmacro %}
