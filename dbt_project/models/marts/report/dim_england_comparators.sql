{#- Published. The England figures the improvement report compares with (seed
    england_comparators): one row per national measure, with its year and source.
    `year` and `publication` are the published column names (RF04 waived on those lines). -#}
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
        year::integer as year,  -- noqa: RF04
        period_description::text as period_description,
        publication::text as publication,  -- noqa: RF04
        citation::text as citation

    from comparators

)

select * from final
