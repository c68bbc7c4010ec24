-- The current team and worker of every child (on as_of), for worklists to be split by team
-- and routed to the worker (docs/measures/teams-and-trends.md).

select
    persons.person_id,
    {{ as_of() }} as as_of,
    {{ allocation_columns('alloc', 'current_') }}
from {{ ref('stg_ssd__persons') }} as persons
{{ allocation_at('persons.person_id', as_of(), 'alloc') }}
