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
