{#- Published. The England figures the improvement report compares with (seed
    england_comparators): one row per national measure, with its year and source. -#}
with

comparators as (

    select * from {{ ref('england_comparators') }}

),

final as (

    select
        measure::text as measure,
        england_rate::numeric(6, 4) as england_rate,
        numerator::integer as numerator,
        denominator::integer as denominator,
        year::integer as year,
        period_description::text as period_description,
        publication::text as publication,
        citation::text as citation

    from comparators

)

select * from final
