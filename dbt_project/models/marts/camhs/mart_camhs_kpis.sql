{#- Published: the CAMHS wait measures per calendar month (docs/measures/camhs-waits.md), in
    the long KPI shape (kpi_rows(), macros/kpi.sql, docs/measures/kpi-shape.md): one row
    per measure x team x month with numerator, denominator and rate. Counts only, no
    identifiers. Every figure is null when the drop did not carry ext_camhs_referrals (not
    available, never 0).
    seen_within_18_weeks: over the referrals whose 18-week outcome became known in the
    month (fct_camhs_waits.outcome_known_date: the first appointment, or the first day past
    18 weeks without one), those seen within 18 weeks.
    waiting_over_18_weeks: of the referrals waiting for a first appointment on the month's
    last day (or as_of), those waiting more than 18 weeks (a count with its denominator).
    Each also split by the child's level on the referral date (_cla, _cp, _cin, _eh,
    _none). By team: each referral counted for the team holding the case on the referral
    date (fct_camhs_waits.team, int_allocations_dated), one row per team of dim_team and
    `all`; mart_camhs_kpis_suppressed is the small-number-suppressed twin. -#}
{%- set levels = ['CLA', 'CP', 'CIN', 'EH', 'none'] %}
{%- set available = 'counted.is_camhs_available' %}
{%- set measures = [
    {'measure': 'seen_within_18_weeks', 'numerator': 'seen_within',
     'denominator': 'outcome_known', 'available': available},
    {'measure': 'waiting_over_18_weeks', 'numerator': 'waiting_over',
     'denominator': 'waiting', 'available': available},
] %}
{%- for level in levels %}
    {%- do measures.append({'measure': 'seen_within_18_weeks_' ~ level | lower,
        'numerator': 'seen_within_' ~ level | lower,
        'denominator': 'outcome_known_' ~ level | lower, 'available': available}) %}
{%- endfor %}
{%- for level in levels %}
    {%- do measures.append({'measure': 'waiting_over_18_weeks_' ~ level | lower,
        'numerator': 'waiting_over_' ~ level | lower,
        'denominator': 'waiting_' ~ level | lower, 'available': available}) %}
{%- endfor %}
with

waits as (

    select * from {{ ref('fct_camhs_waits') }}

),

inputs as (

    select * from {{ ref('int_camhs_inputs_pivoted') }}

),

{# from the first referral's month to as_of's month; as_of's month alone without referrals
   (so that an absent table still publishes its null rows) #}
months as (

    {{ kpi_months('(select min(waits.referral_date) from waits)') }}

),

outcome_counts as (

    select
        date_trunc('month', waits.outcome_known_date)::date as month_start,
        {{ team_or_all('waits.team') }} as team,
        {%- for level in levels %}
            count(*) filter (where waits.level_at_referral = '{{ level }}')
                as outcome_known_{{ level | lower }},
            count(*) filter (
                where waits.seen_within_18_weeks and waits.level_at_referral = '{{ level }}'
            ) as seen_within_{{ level | lower }},
        {%- endfor %}
        count(*) as outcome_known,
        count(*) filter (where waits.seen_within_18_weeks) as seen_within

    from waits
    where waits.outcome_known_date is not null
    group by grouping sets (
        (date_trunc('month', waits.outcome_known_date), waits.team),
        (date_trunc('month', waits.outcome_known_date))
    )

),

{# waiting on the month's end: referred by then, not accepted is no wait, no first
   appointment and not closed by then (span convention: an appointment or closure on the
   month's end ends the wait) #}
waiting_on_month_end as (

    select
        months.month_start,
        waits.team,
        waits.level_at_referral,
        months.month_end - waits.referral_date > {{ var('camhs_wait_weeks') * 7 }}
            as is_over

    from months
    inner join waits
        on
            months.month_end >= waits.referral_date
            and waits.is_accepted is not false
            and (
                waits.first_appointment_date is null
                or months.month_end < waits.first_appointment_date
            )
            and (waits.closed_date is null or months.month_end < waits.closed_date)

),

waiting_counts as (

    select
        waiting_on_month_end.month_start,
        {{ team_or_all('waiting_on_month_end.team') }} as team,
        {%- for level in levels %}
            count(*) filter (where waiting_on_month_end.level_at_referral = '{{ level }}')
                as waiting_{{ level | lower }},
            count(*) filter (
                where
                waiting_on_month_end.is_over
                and waiting_on_month_end.level_at_referral = '{{ level }}'
            ) as waiting_over_{{ level | lower }},
        {%- endfor %}
        count(*) as waiting,
        count(*) filter (where waiting_on_month_end.is_over) as waiting_over

    from waiting_on_month_end
    group by grouping sets (
        (waiting_on_month_end.month_start, waiting_on_month_end.team),
        (waiting_on_month_end.month_start)
    )

),

counted as (

    {# one row per team x month with every count: each team of dim_team and `all` #}
    select
        {{ kpi_month_columns('months', 'teams.team') }},
        outcome_counts.outcome_known,
        outcome_counts.seen_within,
        waiting_counts.waiting,
        waiting_counts.waiting_over,
        {%- for level in levels %}
            outcome_counts.outcome_known_{{ level | lower }},
            outcome_counts.seen_within_{{ level | lower }},
            waiting_counts.waiting_{{ level | lower }},
            waiting_counts.waiting_over_{{ level | lower }},
        {%- endfor %}
        inputs.is_camhs_available

    from months
    cross join {{ ref('dim_team') }} as teams
    cross join inputs
    left join outcome_counts
        on months.month_start = outcome_counts.month_start and teams.team = outcome_counts.team
    left join waiting_counts
        on months.month_start = waiting_counts.month_start and teams.team = waiting_counts.team

),

final as (

    {{ kpi_rows(measures, from='counted') }}

)

select * from final
