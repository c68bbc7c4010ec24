{#- Ephemeral, not a view: marts.data_completeness is a view over dq that must outlive
    tonight's build (a night that fails keeps yesterday's marts). dbt replaces a view by
    dropping the old one with CASCADE, which would drop the published view with it; inlined
    as a CTE, the staging step leaves data_completeness depending on the dq tables alone. -#}
{{ config(materialized='ephemeral') }}

{#- dq.validation_results as the rest of the project reads it: one row per expectation
    per run, written by csc_warehouse.validate (not by dbt). -#}
with

source as (

    select * from {{ source('dq', 'validation_results') }}

),

renamed as (

    select
        source.run_id,
        source.as_of,
        source.batch_id,
        source.suite,
        source.severity,
        source.expectation as check_name,
        source.expectation_type,
        source.table_name,
        source.column_name,
        source.success,
        source.element_count as records_checked,
        source.unexpected_count as records_failing,
        source.mostly,
        source.validated_at

    from source

)

select * from renamed
