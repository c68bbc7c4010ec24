{#- Which children are open in children's social care on as_of, by involvement type. Looked
    after = a period of care open on as_of from its care start (int_periods_of_care): care
    under V3/V4 short breaks is not looked after (version 2, section 7;
    docs/measures/placements-and-reviews.md#short-breaks-are-not-care). -#}
with

persons as (

    select * from {{ ref('stg_ssd__persons') }}

),

cin_episodes as (

    select * from {{ ref('stg_ssd__cin_episodes') }}

),

periods_of_care as (

    select * from {{ ref('int_periods_of_care') }}
    where care_start_date is not null

),

open_cin as (

    select distinct person_id
    from cin_episodes
    where {{ is_open_on('referral_date', 'close_date', as_of()) }}

),

open_cla as (

    select distinct person_id
    from periods_of_care
    where {{ is_open_on('care_start_date', 'end_date', as_of()) }}

),

final as (

    select
        persons.person_id,
        persons.sex,
        persons.date_of_birth,
        {{ as_of() }} as as_of,
        open_cin.person_id is not null as is_open_cin,
        open_cla.person_id is not null as is_looked_after

    from persons
    left join open_cin on persons.person_id = open_cin.person_id
    left join open_cla on persons.person_id = open_cla.person_id
    where open_cin.person_id is not null or open_cla.person_id is not null

)

select * from final
