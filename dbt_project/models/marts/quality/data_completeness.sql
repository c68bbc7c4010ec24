{{ config(materialized='view') }}

{#- Record completeness night by night (docs/measures/record-completeness.md), for BI
    charts such as "% of looked-after children with a known current location".

    A VIEW over dq (read through the staging views stg_dq__*), so it is always current
    without a rebuild; it shows only runs that were PUBLISHED (dq.pipeline_runs), so what
    BI sees matches the marts it is reading: a night whose critical checks failed publishes
    nothing, and its results (kept in dq.validation_results for engineers) do not appear
    here. The publish step marks the run
    published in the same transaction as the schema swap, so tonight's results appear
    together with tonight's marts. One row per check per as_of: the latest published run of
    that night. Counts only: no ids. -#}
with

results as (

    select * from {{ ref('stg_dq__validation_results') }}

),

runs as (

    select * from {{ ref('stg_dq__pipeline_runs') }}

),

published_runs as (

    select distinct on (as_of)
        run_id,
        as_of,
        finished_at as published_at

    from runs
    where
        status = 'published'
        and exists (
            select 1 from results
            where results.run_id = runs.run_id
        )
    order by as_of asc, finished_at desc, run_id desc

),

final as (

    select
        published_runs.as_of,
        published_runs.run_id,
        published_runs.published_at,
        results.suite,
        results.severity,
        results.check_name,
        results.table_name,
        results.column_name,
        results.success,
        results.records_checked,
        results.records_failing,
        results.records_checked - results.records_failing as records_passing,
        case
            when results.records_checked > 0
                then round(
                    100.0 * (results.records_checked - results.records_failing)
                    / results.records_checked, 2
                )
        end as percent_passing,
        round((100 * results.mostly)::numeric, 2) as threshold_percent

    from published_runs
    inner join results on published_runs.run_id = results.run_id

)

select * from final
