{#- Children open on as_of by level, sex and age band: counts only, no identifiers. -#}
with

caseload as (

    select * from {{ ref('fct_caseload') }}

),

final as (

    select
        as_of,
        highest_level,
        sex,
        age_band,
        count(*)::integer as children

    from caseload
    group by as_of, highest_level, sex, age_band

)

select * from final
