{#- Looked-after reviews on the regulation 33 schedule, per period of care: one row per review
    held (not cancelled) on or before as_of, plus one row for the next review when it is
    already overdue (review_date null, overdue true).
    Due dates: review 1 = period start + N working days (var first_review_working_days);
    review 2 = review 1's date + N months (var second_review_months); review n+1 = review n's
    date + N months (var later_review_months) for n >= 2. Calendar months, clamped at month
    end (31 January + 1 month = 28/29 February).
    Version 2, section 7 (docs/measures/placements-and-reviews.md#section-3-looked-after-reviews-fct_cla_reviews):
    short-break periods (V3/V4) have no reviews, and a period that turned from short breaks
    into care counts only the reviews from its start (the change day). A period that began
    before the extract's history (int_periods_of_care.began_before_extract) has rows only
    from its first review in the extract on: that review anchors the schedule (due_date and
    on_time null: the reviews before the extract are unknown), the next ones are due N months
    (var later_review_months) after the previous one, and no overdue review 1 is invented. -#}
with

periods as (

    select * from {{ ref('int_periods_of_care') }}
    where not coalesce(is_short_break_period, false)

),

reviews as (

    select * from {{ ref('stg_ssd__cla_reviews') }}
    where
        not coalesce(is_cancelled, false)
        and review_date is not null
        and review_date <= {{ as_of() }}

),

held as (

    select
        periods.person_id,
        periods.cla_id,
        periods.start_date as period_start_date,
        periods.end_date as period_end_date,
        coalesce(periods.began_before_extract, false) as began_before_extract,
        reviews.review_id,
        reviews.review_date,
        row_number() over (
            partition by reviews.cla_id order by reviews.review_date, reviews.review_id
        )::integer as review_number,
        lag(reviews.review_date) over (
            partition by reviews.cla_id order by reviews.review_date, reviews.review_id
        ) as previous_review_date

    from reviews
    inner join periods
        on reviews.cla_id = periods.cla_id
    -- after short breaks turned into care, only the reviews of the period of care
    where periods.short_break_start_date is null or reviews.review_date >= periods.start_date

),

held_scheduled as (

    select
        held.*,
        case
            when held.began_before_extract and held.review_number = 1 then null::date
            when held.began_before_extract
                then
                    (
                        held.previous_review_date
                        + interval '{{ var("later_review_months") }} months'
                    )::date
            when held.review_number = 1
                then
                    {{ add_working_days(
                        'held.period_start_date', var('first_review_working_days')
                    ) }}
            when held.review_number = 2
                then
                    (
                        held.previous_review_date
                        + interval '{{ var("second_review_months") }} months'
                    )::date
            else
                (
                    held.previous_review_date + interval '{{ var("later_review_months") }} months'
                )::date
        end as due_date

    from held

),

last_held as (

    select
        cla_id,
        review_number,
        review_date

    from held
    where (cla_id, review_number) in (
        select
            held_max.cla_id,
            max(held_max.review_number) as review_number
        from held as held_max
        group by held_max.cla_id
    )

),

next_due as (

    select
        periods.person_id,
        periods.cla_id,
        periods.start_date as period_start_date,
        periods.end_date as period_end_date,
        coalesce(periods.began_before_extract, false) as began_before_extract,
        coalesce(last_held.review_number, 0) + 1 as review_number,
        case
            when coalesce(periods.began_before_extract, false)
                then
                    (
                        last_held.review_date + interval '{{ var("later_review_months") }} months'
                    )::date
            when last_held.review_number is null
                then {{ add_working_days('periods.start_date', var('first_review_working_days')) }}
            when last_held.review_number = 1
                then
                    (
                        last_held.review_date + interval '{{ var("second_review_months") }} months'
                    )::date
            else (last_held.review_date + interval '{{ var("later_review_months") }} months')::date
        end as due_date

    from periods
    left join last_held
        on periods.cla_id = last_held.cla_id

),

-- due before as_of (or, for a period that has ended, before the day it ended) and not held
overdue as (

    -- (a period that began before the extract with no review in it has no due date: no row)
    select * from next_due
    where due_date < coalesce(period_end_date, {{ as_of() }})

),

final as (

    select
        person_id,
        cla_id,
        review_id,
        review_number,
        period_start_date,
        due_date,
        review_date,
        review_date <= due_date as on_time,
        false as overdue,
        began_before_extract

    from held_scheduled

    union all

    select
        person_id,
        cla_id,
        null as review_id,
        review_number,
        period_start_date,
        due_date,
        null::date as review_date,
        false as on_time,
        true as overdue,
        began_before_extract

    from overdue

)

-- team and worker on the review's due date
-- (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.due_date', 'alloc') }}
