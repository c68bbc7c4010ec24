{#- Review after significant change (a PROJECT definition, not a national one): every
    unplanned placement ending (change reason CREQB, CREQO, CHILD, LAREQ, ALLEG, STAND, APPRR)
    on or before as_of is a significant change; review_within_20wd_of_change = a looked-after
    review of the child was held on the day of the change or within N working days after it
    (var review_after_change_working_days). Null when the ending also ended the period of
    care (no review is due once the child has left care) or when the window is still open
    at as_of and no review has been held yet: the deadline is after as_of. A deadline ON
    as_of has been reached (the whole deadline day is in the extract), so without a review
    by then it is false (matured), not null. -#}
with

placements as (

    select * from {{ ref('int_placement_spans') }}
    where is_unplanned_ending

),

periods as (

    select * from {{ ref('int_periods_of_care') }}

),

reviews as (

    select * from {{ ref('fct_cla_reviews') }}
    where review_date is not null

),

changes as (

    select
        placements.person_id,
        placements.cla_id,
        placements.placement_id,
        placements.placement_type,
        placements.end_date as change_date,
        placements.change_reason,
        coalesce(periods.end_date <= placements.end_date, false) as ended_care,
        {{ add_working_days('placements.end_date', var('review_after_change_working_days')) }}
            as review_deadline

    from placements
    left join periods
        on placements.cla_id = periods.cla_id

),

first_review_after as (

    select
        changes.placement_id,
        min(reviews.review_date) as next_review_date

    from changes
    inner join reviews
        on
            changes.person_id = reviews.person_id
            and changes.change_date <= reviews.review_date
    group by changes.placement_id

),

final as (

    select
        changes.person_id,
        changes.cla_id,
        changes.placement_id,
        changes.placement_type,
        changes.change_date,
        changes.change_reason,
        changes.ended_care,
        changes.review_deadline,
        first_review_after.next_review_date,
        {{ working_days_between('changes.change_date', 'first_review_after.next_review_date') }}
            as working_days_to_review,
        case
            when changes.ended_care then null
            when first_review_after.next_review_date <= changes.review_deadline then true
            when changes.review_deadline > {{ as_of() }} then null
            else false
        end as review_within_20wd_of_change

    from changes
    left join first_review_after
        on changes.placement_id = first_review_after.placement_id

)

-- team and worker on the day of the change
-- (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.change_date', 'alloc') }}
