{#- One row per short-break span (version 2, section 7;
    docs/measures/placements-and-reviews.md#short-breaks-are-not-care), seen from as_of: the
    part of a clae_cla_id under legal status V3/V4 before any other legal status (the whole
    period for a short-break period; up to the change day for a series that turned into
    care). end_date is exclusive and null while the span is open at as_of. Person level:
    restricted schema. -#}
with

periods as (

    select * from {{ ref('int_periods_of_care') }}

),

final as (

    select
        periods.person_id,
        periods.cla_id,
        periods.short_break_start_date as start_date,
        periods.short_break_end_date as end_date,
        periods.short_break_legal_status as legal_status,
        not periods.is_short_break_period as turned_into_care

    from periods
    where
        periods.short_break_start_date is not null
        and periods.short_break_legal_status in {{ codes('legal_status', 'short_break') }}

)

-- team and worker at the span's start (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.start_date', 'alloc') }}
