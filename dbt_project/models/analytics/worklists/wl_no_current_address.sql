{#- Children open at level 2-4 on as_of (an open CIN episode, CP plan or period of care
    open from its care start: int_periods_of_care, as int_children_open_on_as_of, so V3/V4
    short breaks are not level 4, version 2 section 7) with no address open on as_of
    (docs/measures/record-completeness.md). level is
    the highest open level. Same rows as the GX warning "current_address: current address
    known" (expectations/warnings.yml); keep the two in step. -#}
with

cin_episodes as (

    select * from {{ ref('stg_ssd__cin_episodes') }}

),

cp_plans as (

    select * from {{ ref('stg_ssd__cp_plans') }}

),

periods_of_care as (

    select * from {{ ref('int_periods_of_care') }}
    where care_start_date is not null

),

addresses as (

    select * from {{ ref('stg_ssd__addresses') }}

),

open_levels as (

    select
        person_id,
        2 as level
    from cin_episodes
    where {{ is_open_on('referral_date', 'close_date', as_of()) }}

    union all

    select
        person_id,
        3 as level
    from cp_plans
    where {{ is_open_on('start_date', 'end_date', as_of()) }}

    union all

    select
        person_id,
        4 as level
    from periods_of_care
    where {{ is_open_on('care_start_date', 'end_date', as_of()) }}

),

open_children as (

    select
        person_id,
        max(level) as level
    from open_levels
    where person_id is not null
    group by person_id

),

current_addresses as (

    select distinct person_id
    from addresses
    where {{ is_open_on('start_date', 'end_date', as_of()) }}

),

final as (

    select
        open_children.person_id,
        open_children.level::integer as level,
        case open_children.level when 2 then 'CIN' when 3 then 'CP' else 'CLA' end
            as level_name,
        {{ as_of() }} as as_of

    from open_children
    left join current_addresses on open_children.person_id = current_addresses.person_id
    where current_addresses.person_id is null

)

-- the child's team and worker on as_of, so the list can be split by team and routed
-- (int_allocations_dated, docs/measures/teams-and-trends.md); no rows when the drop did
-- not carry the input (not available: the GX check says so, docs/data-quality.md)
select
    final.*,
    {{ allocation_columns('alloc', 'current_') }}
from final
{{ allocation_at('final.person_id', as_of(), 'alloc') }}
inner join {{ ref('int_check_inputs_pivoted') }} as inputs on inputs.is_current_address_available
