{#- Looked-after children on as_of whose current location is not known
    (docs/measures/record-completeness.md). Looked after = a period of care open on as_of
    from its care start (int_periods_of_care, as int_children_open_on_as_of): a child on
    V3/V4 short breaks is not looked after (version 2, section 7). Not known: currently missing (a missing or away episode
    open on as_of, docs/measures/missing-and-timeliness.md), not exactly one open placement,
    or the latest open placement lacks a type, a valid UK postcode, a provider (unless T0-T4
    or Z1x) or a URN (unless P1-P3, R1, R2, R5, T0-T4, Z1x). Same rows as the GX warning
    "current_location: current location known" (expectations/warnings.yml); keep the two in
    step. -#}
with

periods_of_care as (

    select * from {{ ref('int_periods_of_care') }}
    where care_start_date is not null

),

placements as (

    select * from {{ ref('stg_ssd__cla_placements') }}

),

looked_after as (

    select distinct person_id
    from periods_of_care
    where {{ is_open_on('care_start_date', 'end_date', as_of()) }}

),

open_placements as (

    select
        person_id,
        cla_id,
        placement_id,
        nullif(btrim(placement_type), '') as placement_type,
        nullif(btrim(provider), '') as provider,
        upper(btrim(postcode)) as postcode,
        nullif(btrim(urn), '') as urn,
        count(*) over (partition by person_id) as open_placements,
        row_number() over (
            partition by person_id order by start_date desc, placement_id desc
        ) as latest

    from placements
    where {{ is_open_on('start_date', 'end_date', as_of()) }}

),

{# a child currently missing (a missing or away episode open on as_of,
    fct_missing_episodes) is not where the placement says: reason 'missing' #}
currently_missing as (

    select
        person_id,
        min(start_date) as missing_since

    from {{ ref('fct_missing_episodes') }}
    where is_open_on_as_of
    group by person_id

),

checked as (

    select
        looked_after.person_id,
        open_placements.cla_id,
        open_placements.placement_id,
        open_placements.placement_type,
        coalesce(open_placements.open_placements, 0)::integer as open_placements,
        currently_missing.missing_since,
        nullif(concat_ws(
            '; ',
            case when currently_missing.person_id is not null then 'whereabouts (missing)' end,
            case
                when open_placements.person_id is null then 'no open placement'
                when open_placements.open_placements > 1 then 'more than one open placement'
            end,
            case
                when
                    open_placements.person_id is not null
                    and open_placements.placement_type is null
                    then 'placement type'
            end,
            case
                when
                    open_placements.person_id is not null
                    and (
                        open_placements.postcode is null
                        or open_placements.postcode !~ '^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$'
                    )
                    then 'valid postcode'
            end,
            case
                when
                    open_placements.person_id is not null
                    and open_placements.provider is null
                    and not coalesce(
                        open_placements.placement_type in {{ codes('placement_type', 'temporary') }}
                        or open_placements.placement_type like 'Z1%', false
                    )
                    then 'provider'
            end,
            case
                when
                    open_placements.person_id is not null
                    and open_placements.urn is null
                    and not coalesce(
                        open_placements.placement_type in {{ codes('placement_without_urn') }}
                        or open_placements.placement_type
                        in {{ codes('placement_type', 'temporary') }}
                        or open_placements.placement_type like 'Z1%', false
                    )
                    then 'URN'
            end
        ), '') as what_is_missing

    from looked_after
    left join open_placements
        on
            looked_after.person_id = open_placements.person_id
            and open_placements.latest = 1
    left join currently_missing
        on looked_after.person_id = currently_missing.person_id

),

final as (

    select
        person_id,
        cla_id,
        placement_id,
        placement_type,
        open_placements,
        what_is_missing,
        case
            when missing_since is not null then 'missing'
            when open_placements = 0 then 'no open placement'
            when open_placements > 1 then 'more than one open placement'
            else 'placement details incomplete'
        end as reason,
        missing_since,
        {{ as_of() }} as as_of

    from checked
    where what_is_missing is not null

)

-- the child's team and worker on as_of, so the list can be split by team and routed
-- (int_allocations_dated, docs/measures/teams-and-trends.md); no rows when the drop did
-- not carry the input (not available: the GX check says so, docs/data-quality.md)
select
    final.*,
    {{ allocation_columns('alloc', 'current_') }}
from final
{{ allocation_at('final.person_id', as_of(), 'alloc') }}
inner join {{ ref('int_check_inputs_pivoted') }} as inputs on inputs.is_current_location_available
