{#- Published: the missing-from-care and timeliness measures per calendar month
    (docs/measures/missing-and-timeliness.md), in the long KPI shape of the published KPI
    marts: one row per measure x team x month with numerator, denominator and rate. Counts
    only, no identifiers. The rows are written by kpi_rows() (macros/kpi.sql,
    docs/measures/kpi-shape.md): a rate is null when its denominator is 0; every figure of a
    measure is null when the drop did not carry its input (not available, never 0). -#}
{%- set measures = [
    {'measure': 'assessment_within_45wd', 'numerator': 'assessments_within',
     'denominator': 'assessments_authorised', 'available': 'counted.is_assessments_available'},
    {'measure': 'assessment_open_overdue', 'numerator': 'assessments_overdue',
     'denominator': 'assessments_open', 'available': 'counted.is_assessments_available'},
    {'measure': 'icpc_within_15wd', 'numerator': 'icpcs_within',
     'denominator': 'icpcs_timed', 'available': 'counted.is_icpc_available'},
    {'measure': 's47_to_icpc', 'numerator': 's47_led_to_icpc',
     'denominator': 's47_decided',
     'available': 'counted.is_s47_available and counted.is_icpc_available'},
    {'measure': 'icpc_to_cp_plan', 'numerator': 'icpcs_led_to_cp_plan',
     'denominator': 'icpcs_held',
     'available': 'counted.is_icpc_available and counted.is_icpc_outcome_available'},
    {'measure': 'cla_missing_or_away', 'numerator': 'children_missing_or_away',
     'denominator': 'children_looked_after',
     'available': 'counted.is_missing_available and counted.is_cla_episodes_available'},
    {'measure': 'cla_missing', 'numerator': 'children_missing',
     'denominator': 'children_looked_after',
     'available': 'counted.is_missing_available and counted.is_cla_episodes_available'},
    {'measure': 'cla_away', 'numerator': 'children_away',
     'denominator': 'children_looked_after',
     'available': 'counted.is_missing_available and counted.is_cla_episodes_available'},
    {'measure': 'missing_episodes_while_looked_after', 'numerator': 'missing_episodes',
     'available': 'counted.is_missing_available and counted.is_cla_episodes_available'},
    {'measure': 'rhi_offered', 'numerator': 'episodes_rhi_offered',
     'denominator': 'episodes_ended', 'available': 'counted.is_rhi_offered_available'},
    {'measure': 'rhi_accepted', 'numerator': 'episodes_rhi_accepted',
     'denominator': 'episodes_ended', 'available': 'counted.is_rhi_accepted_available'},
] %}
with

assessments as (

    select * from {{ ref('fct_assessment_timeliness') }}

),

icpcs as (

    select * from {{ ref('fct_icpc_timeliness') }}

),

s47_enquiries as (

    select * from {{ ref('fct_s47_enquiries') }}

),

missing_episodes as (

    select * from {{ ref('fct_missing_episodes') }}

),

periods as (

    select * from {{ ref('fct_periods_of_care') }}
    where not coalesce(is_short_break_period, false)

),

inputs as (

    select * from {{ ref('int_timeliness_inputs_pivoted') }}

),

{# from the first month an assessment, ICPC, s47 enquiry or missing episode is dated to
   as_of's month; none when there is none (kpi_months(), macros/kpi.sql) #}
months as (

    {{ kpi_months(
        'least(
            (select min(assessments.start_date) from assessments),
            (select min(icpcs.icpc_date) from icpcs),
            (select min(s47_enquiries.start_date) from s47_enquiries),
            (select min(missing_episodes.start_date) from missing_episodes)
        )',
        required=true
    ) }}

),

assessment_counts as (

    select
        date_trunc('month', assessments.auth_date)::date as month_start,
        count(*) as assessments_authorised,
        count(*) filter (where assessments.authorised_within_45wd) as assessments_within

    from assessments
    where assessments.auth_date is not null
    group by date_trunc('month', assessments.auth_date)

),

{# assessments open at each month's end (or as_of), and those already past the window then #}
open_assessment_counts as (

    select
        months.month_start,
        count(assessments.assessment_id) as assessments_open,
        count(assessments.assessment_id) filter (
            where {{ working_days_between('assessments.start_date', 'months.month_end') }}
            > {{ var('assessment_working_days') }}
        ) as assessments_overdue

    from months
    inner join assessments
        on
            months.month_end >= assessments.start_date
            and (assessments.auth_date is null or months.month_end < assessments.auth_date)
    group by months.month_start

),

icpc_counts as (

    select
        date_trunc('month', icpcs.icpc_date)::date as month_start,
        count(*) filter (where icpcs.within_15wd is not null) as icpcs_timed,
        count(*) filter (where icpcs.within_15wd) as icpcs_within,
        count(*) filter (where icpcs.led_to_cp_plan is not null) as icpcs_held,
        count(*) filter (where icpcs.led_to_cp_plan) as icpcs_led_to_cp_plan

    from icpcs
    where icpcs.icpc_date is not null
    group by date_trunc('month', icpcs.icpc_date)

),

s47_counts as (

    select
        date_trunc('month', s47_enquiries.start_date)::date as month_start,
        count(*) filter (where s47_enquiries.led_to_icpc is not null) as s47_decided,
        count(*) filter (where s47_enquiries.led_to_icpc) as s47_led_to_icpc

    from s47_enquiries
    group by date_trunc('month', s47_enquiries.start_date)

),

{# children looked after on at least one day of the month (up to as_of) #}
looked_after_counts as (

    select
        months.month_start,
        count(distinct periods.person_id) as children_looked_after

    from months
    inner join periods
        on
            months.month_end >= periods.start_date
            and (periods.end_date is null or months.month_start < periods.end_date)
    group by months.month_start

),

missing_start_counts as (

    select
        date_trunc('month', missing_episodes.start_date)::date as month_start,
        count(*) as missing_episodes,
        count(distinct missing_episodes.person_id) as children_missing_or_away,
        count(distinct missing_episodes.person_id) filter (
            where missing_episodes.missing_type = 'M'
        ) as children_missing,
        count(distinct missing_episodes.person_id) filter (
            where missing_episodes.missing_type = 'A'
        ) as children_away

    from missing_episodes
    where missing_episodes.while_looked_after
    group by date_trunc('month', missing_episodes.start_date)

),

missing_end_counts as (

    select
        date_trunc('month', missing_episodes.end_date)::date as month_start,
        count(*) as episodes_ended,
        count(*) filter (where missing_episodes.rhi_offered) as episodes_rhi_offered,
        count(*) filter (where missing_episodes.rhi_accepted) as episodes_rhi_accepted

    from missing_episodes
    where missing_episodes.while_looked_after and missing_episodes.end_date is not null
    group by date_trunc('month', missing_episodes.end_date)

),

counted as (

    {# one row per team x month with every count (team: 'all' until the by-team marts) #}
    select
        {{ kpi_month_columns('months') }},
        assessment_counts.assessments_authorised,
        assessment_counts.assessments_within,
        open_assessment_counts.assessments_open,
        open_assessment_counts.assessments_overdue,
        icpc_counts.icpcs_timed,
        icpc_counts.icpcs_within,
        icpc_counts.icpcs_held,
        icpc_counts.icpcs_led_to_cp_plan,
        s47_counts.s47_decided,
        s47_counts.s47_led_to_icpc,
        looked_after_counts.children_looked_after,
        missing_start_counts.missing_episodes,
        missing_start_counts.children_missing_or_away,
        missing_start_counts.children_missing,
        missing_start_counts.children_away,
        missing_end_counts.episodes_ended,
        missing_end_counts.episodes_rhi_offered,
        missing_end_counts.episodes_rhi_accepted,
        inputs.is_assessments_available,
        inputs.is_s47_available,
        inputs.is_icpc_available,
        inputs.is_icpc_outcome_available,
        inputs.is_missing_available,
        inputs.is_cla_episodes_available,
        inputs.is_rhi_offered_available,
        inputs.is_rhi_accepted_available

    from months
    cross join inputs
    left join assessment_counts on months.month_start = assessment_counts.month_start
    left join open_assessment_counts on months.month_start = open_assessment_counts.month_start
    left join icpc_counts on months.month_start = icpc_counts.month_start
    left join s47_counts on months.month_start = s47_counts.month_start
    left join looked_after_counts on months.month_start = looked_after_counts.month_start
    left join missing_start_counts on months.month_start = missing_start_counts.month_start
    left join missing_end_counts on months.month_start = missing_end_counts.month_start

),

final as (

    {{ kpi_rows(measures, from='counted') }}

)

select * from final
