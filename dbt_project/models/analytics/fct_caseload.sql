{#- One row per child open to children's social care on as_of (restricted: person level). -#}
with

open_children as (

    select * from {{ ref('int_children_open_on_as_of') }}

),

final as (

    select
        person_id,
        {{ child_key('person_id') }} as child_key,
        as_of,
        sex,
        {{ age_band('date_of_birth', 'as_of') }} as age_band,
        case
            when is_looked_after then 'CLA'
            when is_open_cin then 'CIN'
        end as highest_level,
        is_open_cin,
        is_looked_after

    from open_children

)

-- team and worker on as_of (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.as_of', 'alloc') }}
