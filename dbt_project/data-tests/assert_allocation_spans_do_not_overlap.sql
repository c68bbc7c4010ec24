-- A child's allocation spans never overlap (int_allocations_dated), so attaching the team
-- and worker at a date adds at most one row per fact row: the rows returned are overlaps.
select
    earlier.person_id,
    earlier.valid_from,
    later.valid_from as overlapping_from
from {{ ref('int_allocations_dated') }} as earlier
inner join {{ ref('int_allocations_dated') }} as later
    on
        earlier.person_id = later.person_id
        and earlier.valid_from < later.valid_from
        and (earlier.valid_to is null or earlier.valid_to > later.valid_from)
