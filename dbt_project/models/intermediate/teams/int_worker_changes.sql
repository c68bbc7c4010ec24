-- One row per change of a child's allocated social worker (docs/measures/teams-and-trends.md):
-- an allocated span whose worker differs from the child's previous allocated worker. A
-- child's first allocation is not a change; an unallocated gap between two spans of the
-- same worker is not one either (the Children's Commissioner's stability index counts
-- changes of social worker).
with

allocated as (

    select
        allocations.person_id,
        allocations.valid_from,
        allocations.worker_id,
        allocations.team,
        lag(allocations.worker_id) over (
            partition by allocations.person_id order by allocations.valid_from
        ) as previous_worker_id
    from {{ ref('int_allocations_dated') }} as allocations
    where allocations.is_allocated

)

select
    allocated.person_id,
    allocated.valid_from as change_date,
    allocated.previous_worker_id,
    allocated.worker_id,
    allocated.team
from allocated
where
    allocated.previous_worker_id is not null
    and allocated.previous_worker_id <> allocated.worker_id
