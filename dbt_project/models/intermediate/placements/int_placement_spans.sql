{{ config(materialized='table', post_hook='analyze {{ this }}') }}

{#- Placements seen from as_of: placements starting after as_of are ignored, ends after as_of
    are treated as open, and the flags every placement measure uses are set once here.
    Placements under short breaks (legal status V3/V4 on the start day) are not counted, and
    a temporary placement (T0-T4) does not split the placement around it: a placement that
    follows one or more temporary ones in the same period of care with the same carer as the
    placement before them (same provider and postcode, or same URN) continues it - one
    continuous placement (docs/measures/placements-and-reviews.md#temporary-placements,
    the project's reading of 903 rule 383). -#}
{%- set count_temporary = var('count_temporary_placements') %}
with

placements as (

    select * from {{ ref('stg_ssd__cla_placements') }}

),

legal_statuses as (

    select * from {{ ref('stg_ssd__legal_statuses') }}

),

seen_as_of as (

    select
        placement_id,
        person_id,
        cla_id,
        start_date,
        {{ end_as_of('end_date', as_of()) }} as end_date,
        placement_type,
        provider,
        postcode,
        urn,
        change_reason,
        coalesce(placement_type in {{ codes('placement_type', 'temporary') }}, false)
            as is_temporary

    from placements
    where start_date <= {{ as_of() }}

),

-- the legal status open on the placement's start day (latest-starting when several)
legal_status_at_start as (

    select distinct on (seen_as_of.placement_id)
        seen_as_of.placement_id,
        legal_statuses.legal_status

    from seen_as_of
    inner join legal_statuses
        on
            seen_as_of.person_id = legal_statuses.person_id
            and {{ is_open_on(
                'legal_statuses.start_date', 'legal_statuses.end_date', 'seen_as_of.start_date'
            ) }}
    order by
        seen_as_of.placement_id asc,
        legal_statuses.start_date desc,
        legal_statuses.legal_status_id desc

),

flagged as (

    select
        seen_as_of.*,
        coalesce(
            legal_status_at_start.legal_status in {{ codes('legal_status', 'short_break') }},
            false
        ) as is_short_break,
        row_number() over (
            partition by seen_as_of.person_id
            order by seen_as_of.start_date, seen_as_of.placement_id
        ) as placement_number

    from seen_as_of
    left join legal_status_at_start
        on seen_as_of.placement_id = legal_status_at_start.placement_id

),

-- the latest non-temporary placement of the child before each one
with_previous as (

    select
        flagged.*,
        max(flagged.placement_number) filter (where not flagged.is_temporary) over (
            partition by flagged.person_id
            order by flagged.placement_number
            rows between unbounded preceding and 1 preceding
        ) as previous_real_number

    from flagged

),

-- a non-temporary placement continues the one before it when only temporary placements
-- (at least one) lie between them, both are in the same period of care and neither is
-- under short breaks, and the carer is the same: same provider and postcode (spaces and
-- case ignored), or same URN
continues as (

    select
        current_placement.placement_id,
        case
            when
                -- with temporary placements counted, nothing is merged around them
                not {{ 'true' if count_temporary else 'false' }}
                and not current_placement.is_temporary
                and not current_placement.is_short_break
                and not previous_placement.is_short_break
                and current_placement.placement_number > previous_placement.placement_number + 1
                and current_placement.cla_id = previous_placement.cla_id
                and (
                    (
                        current_placement.provider = previous_placement.provider
                        and upper(replace(current_placement.postcode, ' ', ''))
                        = upper(replace(previous_placement.postcode, ' ', ''))
                    )
                    or current_placement.urn = previous_placement.urn
                )
                then previous_placement.placement_id
        end as continues_placement_id

    from with_previous as current_placement
    left join with_previous as previous_placement
        on
            current_placement.person_id = previous_placement.person_id
            and current_placement.previous_real_number = previous_placement.placement_number

),

-- chains of continuations: a new continuous placement starts at each placement that does
-- not continue another
chained as (

    select
        with_previous.*,
        continues.continues_placement_id,
        sum(case when continues.continues_placement_id is null then 1 else 0 end) over (
            partition by with_previous.person_id, with_previous.is_temporary
            order by with_previous.placement_number
        ) as continuous_number

    from with_previous
    inner join continues
        on with_previous.placement_id = continues.placement_id

),

continuous as (

    select
        chained.*,
        first_value(chained.placement_id) over continuous_placement as continuous_placement_id,
        first_value(chained.start_date) over continuous_placement as continuous_start_date

    from chained
    window
        continuous_placement as (
            partition by chained.person_id, chained.is_temporary, chained.continuous_number
            order by chained.placement_number
        )

),

final as (

    select
        placement_id,
        person_id,
        cla_id,
        start_date,
        end_date,
        placement_type,
        provider,
        postcode,
        urn,
        -- the reason is only an ending's reason once the placement has ended by as_of
        case when end_date is not null then change_reason end as change_reason,
        is_temporary,
        is_short_break,
        coalesce(
            end_date is not null
            and change_reason in {{ codes('placement_change_reason', 'unplanned') }},
            false
        ) as is_unplanned_ending,
        {% if count_temporary -%}
        not is_short_break
        {%- else -%}
            not is_temporary and not is_short_break
        {%- endif %} as is_counted,
        continues_placement_id,
        continuous_placement_id,
        continuous_start_date

    from continuous

)

select * from final
