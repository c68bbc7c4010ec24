{#- One row per initial child protection conference (ssd_initial_cp_conference) held on or
    before as_of, or pending (its enquiry started or its target date fell by as_of), timed from
    the start of the section 47 enquiry that led to it (docs/measures/missing-and-timeliness.md):
    held within N working days (var icpc_working_days, national 15), the start day being day
    0. With no linked enquiry (or none in the drop) the conference is timed against the
    case system's own target date icpc_icpc_target_date (15 working days after the strategy
    discussion), and working_days_to_icpc is null. Person level: restricted schema. -#}
with

icpcs as (

    select * from {{ ref('stg_ssd__initial_cp_conferences') }}

),

s47_enquiries as (

    select * from {{ ref('stg_ssd__s47_enquiries') }}

),

cp_plans as (

    select * from {{ ref('stg_ssd__cp_plans') }}
    where start_date <= {{ as_of() }}

),

inputs as (

    select * from {{ ref('int_timeliness_inputs_pivoted') }}

),

plans_from_icpc as (

    select distinct cp_plans.icpc_id
    from cp_plans
    where cp_plans.icpc_id is not null

),

linked as (

    select
        icpcs.person_id,
        icpcs.icpc_id,
        s47_enquiries.s47_enquiry_id,
        s47_enquiries.start_date as s47_start_date,
        case when icpcs.conference_date <= {{ as_of() }} then icpcs.conference_date end
            as icpc_date,
        icpcs.target_date,
        icpcs.is_transfer_in,
        coalesce(icpcs.is_outcome_cp_plan, false)
        or nullif(btrim(icpcs.cp_plan_id), '') is not null
        or plans_from_icpc.icpc_id is not null as has_cp_plan_outcome

    from icpcs
    left join s47_enquiries
        on icpcs.s47_enquiry_id = s47_enquiries.s47_enquiry_id
    left join plans_from_icpc
        on icpcs.icpc_id = plans_from_icpc.icpc_id
    {# held by as_of, or pending: its enquiry started (or its target date fell) by as_of #}
    where
        least(icpcs.conference_date, s47_enquiries.start_date, icpcs.target_date)
        <= {{ as_of() }}

),

timed as (

    select
        linked.*,
        case
            when linked.s47_start_date is not null then 's47_start'
            when linked.target_date is not null then 'target_date'
        end as timed_from,
        case
            when linked.s47_start_date is not null
                then {{ add_working_days('linked.s47_start_date', var('icpc_working_days')) }}
            else linked.target_date
        end as due_date,
        {{ working_days_between('linked.s47_start_date', 'linked.icpc_date') }}
            as working_days_to_icpc,
        {{ working_days_between('linked.s47_start_date', as_of()) }} as s47_working_days_on_as_of

    from linked

),

final as (

    select
        timed.person_id,
        timed.icpc_id,
        timed.s47_enquiry_id,
        timed.s47_start_date,
        timed.icpc_date,
        timed.working_days_to_icpc,
        case
            {# held: timed from the enquiry's start, else against the target date #}
            when timed.icpc_date is not null and timed.s47_start_date is not null
                then timed.working_days_to_icpc <= {{ var('icpc_working_days') }}
            when timed.icpc_date is not null and timed.target_date is not null
                then timed.icpc_date <= timed.target_date
            {# not held yet: false once late, null while it can still be on time #}
            when
                timed.icpc_date is null and timed.s47_start_date is not null
                and timed.s47_working_days_on_as_of > {{ var('icpc_working_days') }}
                then false
            when
                timed.icpc_date is null and timed.s47_start_date is null
                and timed.target_date < {{ as_of() }}
                then false
        end as within_15wd,
        case
            when timed.icpc_date is not null and inputs.is_icpc_outcome_available
                then timed.has_cp_plan_outcome
        end as led_to_cp_plan,
        timed.target_date,
        timed.due_date,
        timed.timed_from,
        timed.is_transfer_in,
        {{ as_of() }} as as_of

    from timed
    cross join inputs

)

-- team and worker on the s47 enquiry's start (the ICPC date when there is none)
-- (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'coalesce(final.s47_start_date, final.icpc_date)', 'alloc') }}
