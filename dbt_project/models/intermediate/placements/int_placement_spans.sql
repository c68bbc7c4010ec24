{{ config(materialized='table', post_hook='analyze {{ this }}') }}

{#- Placements seen from as_of: placements starting after as_of are ignored, ends after as_of
    are treated as open, and the flags every placement measure uses are set once here.
    Version 2, section 7: days under short breaks (V3/V4; the legal status on a day is the
    open stg_ssd__legal_statuses row, latest-starting wins) are not care, also inside a period
    of care, and neither are days before the period's care start
    (int_periods_of_care.care_start_date, the day short breaks turned into care). A
    placement's days of care run from care_start_date (its first day of care) to
    care_end_date (the end of its last stretch of care; null while open): a placement that
    began under V3/V4 and continued when care began is a placement of care from that day;
    one with no day of care (entirely under V3/V4, before care began, or in a short-break
    period) is not counted (is_short_break). A placement whose period is not in
    int_periods_of_care is judged on its legal statuses alone (none recorded = care). A
    temporary placement (T0-T4) does not split the placement around it: a placement that
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

periods as (

    select * from {{ ref('int_periods_of_care') }}

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

-- the days a child's legal status can change: every start or end of a legal status row
status_changes as (

    select
        person_id,
        start_date as status_date

    from legal_statuses

    union

    select
        person_id,
        end_date as status_date

    from legal_statuses
    where end_date is not null

),

-- the days the legal status can change within a placement: its start, and every change
-- inside it (by as_of)
status_days as (

    select
        placement_id,
        person_id,
        start_date as status_date

    from seen_as_of

    union

    select
        seen_as_of.placement_id,
        seen_as_of.person_id,
        status_changes.status_date

    from seen_as_of
    inner join status_changes
        on
            seen_as_of.person_id = status_changes.person_id
            and seen_as_of.start_date < status_changes.status_date
            and status_changes.status_date <= {{ as_of() }}
            and (
                seen_as_of.end_date is null
                or seen_as_of.end_date > status_changes.status_date
            )

),

-- the legal status open on each of those days (latest-starting when several)
status_on_day as (

    {{ legal_status_on_day('status_days', 'placement_id') }}

),

-- the placement's stretches of one legal status; a stretch of care is one not under V3/V4
-- (none recorded counts as care, as in version 1) and, when the placement's period is in
-- int_periods_of_care, from that period's care start on (none for a short-break period)
care_stretches as (

    select
        seen_as_of.placement_id,
        case
            when periods.cla_id is null then status_on_day.status_date
            else greatest(status_on_day.status_date, periods.care_start_date)
        end as care_from,
        coalesce(
            lead(status_on_day.status_date) over (
                partition by status_on_day.placement_id order by status_on_day.status_date
            ),
            seen_as_of.end_date
        ) as care_to,
        coalesce(
            status_on_day.legal_status not in {{ codes('legal_status', 'short_break') }}, true
        )
        and (periods.cla_id is null or periods.care_start_date is not null) as is_care

    from status_on_day
    inner join seen_as_of
        on status_on_day.placement_id = seen_as_of.placement_id
    left join periods
        on seen_as_of.cla_id = periods.cla_id

),

-- the placement's first day of care and the end of its last stretch of care (null: open)
care_days as (

    select
        placement_id,
        min(care_from) as care_start_date,
        case when bool_or(care_to is null) then null else max(care_to) end as care_end_date

    from care_stretches
    where is_care and (care_to is null or care_from < care_to)
    group by placement_id

),

care_started as (

    select
        seen_as_of.*,
        care_days.care_start_date,
        care_days.care_end_date

    from seen_as_of
    left join care_days
        on seen_as_of.placement_id = care_days.placement_id

),

flagged as (

    select
        care_started.*,
        care_started.care_start_date is null as is_short_break,
        row_number() over (
            partition by care_started.person_id
            order by care_started.start_date, care_started.placement_id
        ) as placement_number

    from care_started

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
        care_start_date,
        care_end_date,
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
