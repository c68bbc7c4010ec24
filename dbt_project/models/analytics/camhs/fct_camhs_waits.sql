{#- One row per CAMHS referral (ext_camhs_referrals) made on or before as_of, seen from
    as_of (an appointment or closure after as_of has not happened yet), with the wait to the
    first appointment (docs/measures/camhs-waits.md, section 10 of the requirement).
    Seen within N weeks (var camhs_wait_weeks, 18): the first appointment is no later than
    N x 7 days after the referral date (exactly 18 weeks, day 126, is within; day 127 is
    not). Not yet seen: false once N weeks have passed while the referral was open (on day
    N x 7 + 1), null while it is still within them, null when it was closed without an
    appointment within the N weeks, and null for a referral the service did not accept (not
    a wait). The child's level on the referral date comes from int_level_segments_collapsed
    (span convention: a care period starting on the referral date makes it CLA). Person
    level: restricted schema (analytics). -#}
{%- set wait_days = var('camhs_wait_weeks') * 7 %}
with

referrals as (

    select * from {{ ref('stg_ssd__camhs_referrals') }}
    where
        referral_date is not null
        and referral_date <= {{ as_of() }}

),

segments as (

    select * from {{ ref('int_level_segments_collapsed') }}

),

seen_from_as_of as (

    select
        referrals.person_id,
        referrals.referral_id,
        referrals.referral_date,
        referrals.is_accepted,
        case
            when referrals.first_appointment_date <= {{ as_of() }}
                then referrals.first_appointment_date
        end as first_appointment_date,
        {{ end_as_of('referrals.closed_date', as_of()) }} as closed_date

    from referrals

),

timed as (

    select
        seen_from_as_of.*,
        seen_from_as_of.first_appointment_date - seen_from_as_of.referral_date
            as days_to_first_appointment,
        {{ as_of() }} - seen_from_as_of.referral_date as days_since_referral,
        (
            seen_from_as_of.first_appointment_date is null
            and seen_from_as_of.closed_date is not null
        ) as closed_without_appointment,
        (
            seen_from_as_of.first_appointment_date is null
            and seen_from_as_of.closed_date is null
            and seen_from_as_of.is_accepted is not false
        ) as is_waiting_on_as_of

    from seen_from_as_of

),

judged as (

    select
        timed.*,
        case
            when timed.is_accepted is false and timed.first_appointment_date is null then null
            when timed.first_appointment_date is not null
                then timed.days_to_first_appointment <= {{ wait_days }}
            {# closed without an appointment: late only if it was still open after day N x 7 #}
            when timed.closed_date is not null
                then
                    case
                        when timed.closed_date - timed.referral_date > {{ wait_days }}
                            then false
                    end
            when timed.days_since_referral > {{ wait_days }} then false
        end as seen_within_18_weeks

    from timed

),

levelled as (

    select
        judged.referral_id,
        coalesce(max(segments.level), 0) as level_number

    from judged
    left join segments
        on
            judged.person_id = segments.person_id
            and {{ is_open_on('segments.segment_start', 'segments.segment_end',
                'judged.referral_date') }}
    group by judged.referral_id

),

final as (

    select
        judged.person_id,
        judged.referral_id,
        judged.referral_date,
        judged.first_appointment_date,
        round(judged.days_to_first_appointment / 7.0, 1)::numeric(6, 1)
            as weeks_to_first_appointment,
        judged.seen_within_18_weeks,
        case
            when judged.is_waiting_on_as_of
                then round(judged.days_since_referral / 7.0, 1)::numeric(6, 1)
        end as open_wait_weeks_on_as_of,
        case levelled.level_number
            when 4 then 'CLA'
            when 3 then 'CP'
            when 2 then 'CIN'
            when 1 then 'EH'
            else 'none'
        end as level_at_referral,
        levelled.level_number as level_number_at_referral,
        judged.days_to_first_appointment,
        case when judged.is_waiting_on_as_of then judged.days_since_referral end
            as open_wait_days_on_as_of,
        {# the day the 18-week outcome became known: the first appointment, or the first
           day past the N weeks (referral_date + N x 7 + 1) when it came later or never #}
        case
            when judged.seen_within_18_weeks
                then judged.first_appointment_date
            when judged.seen_within_18_weeks = false
                then judged.referral_date + {{ wait_days + 1 }}
        end as outcome_known_date,
        judged.is_accepted,
        judged.closed_date,
        judged.closed_without_appointment,
        judged.is_waiting_on_as_of,
        {{ as_of() }} as as_of

    from judged
    inner join levelled on judged.referral_id = levelled.referral_id

)

-- team and worker on the referral date (int_allocations_dated,
-- docs/measures/teams-and-trends.md): the team the referral is counted for
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.referral_date', 'alloc') }}
