{#- One row per section 47 enquiry started on or before as_of, seen from as_of, with the
    s47 -> ICPC conversion of docs/measures/missing-and-timeliness.md: led_to_icpc = an
    initial child protection conference linked to the enquiry (icpc_s47_enquiry_id) was
    held on or before as_of; null while the enquiry is still open with no conference yet
    (it may still lead to one) and when the drop did not carry ssd_initial_cp_conference.
    Person level: restricted schema. -#}
with

s47_enquiries as (

    select * from {{ ref('stg_ssd__s47_enquiries') }}
    where
        start_date is not null
        and start_date <= {{ as_of() }}

),

icpcs as (

    select * from {{ ref('stg_ssd__initial_cp_conferences') }}
    where
        s47_enquiry_id is not null
        and conference_date <= {{ as_of() }}

),

inputs as (

    select * from {{ ref('int_timeliness_inputs_pivoted') }}

),

first_icpc as (

    select
        icpcs.s47_enquiry_id,
        min(icpcs.conference_date) as icpc_date,
        (array_agg(icpcs.icpc_id order by icpcs.conference_date, icpcs.icpc_id))[1]
            as icpc_id

    from icpcs
    group by icpcs.s47_enquiry_id

),

enquiries as (

    select
        s47_enquiries.person_id,
        s47_enquiries.s47_enquiry_id,
        s47_enquiries.referral_id,
        s47_enquiries.start_date,
        {{ end_as_of('s47_enquiries.end_date', as_of()) }} as end_date

    from s47_enquiries

),

final as (

    select
        enquiries.person_id,
        enquiries.s47_enquiry_id,
        enquiries.referral_id,
        enquiries.start_date,
        enquiries.end_date,
        enquiries.end_date is null as is_open_on_as_of,
        first_icpc.icpc_id,
        first_icpc.icpc_date,
        case
            when not inputs.is_icpc_available then null
            when first_icpc.s47_enquiry_id is not null then true
            when enquiries.end_date is null then null
            else false
        end as led_to_icpc,
        {{ as_of() }} as as_of

    from enquiries
    cross join inputs
    left join first_icpc
        on enquiries.s47_enquiry_id = first_icpc.s47_enquiry_id

)

-- team and worker on the enquiry's start
-- (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.start_date', 'alloc') }}
