{#- Ephemeral, not a view: marts.data_completeness is a view over dq that must outlive
    tonight's build (a night that fails keeps yesterday's marts). dbt replaces a view by
    dropping the old one with CASCADE, which would drop the published view with it; inlined
    as a CTE, the staging step leaves data_completeness depending on the dq tables alone. -#}
{{ config(materialized='ephemeral') }}

{#- dq.pipeline_runs: one row per nightly run (running, published or failed), written by
    csc_warehouse.pipeline and csc_warehouse.publish (not by dbt). -#}
with

source as (

    select * from {{ source('dq', 'pipeline_runs') }}

),

renamed as (

    select
        source.run_id,
        source.as_of,
        source.batch_id,
        source.status,
        source.message,
        source.started_at,
        source.finished_at

    from source

)

select * from renamed
