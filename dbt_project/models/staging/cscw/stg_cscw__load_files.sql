with

source as (

    select * from {{ source('cscw', 'load_files') }}

),

current_batch as (

    select
        lb.batch_id,
        lb.drop_date
    from {{ source('cscw', 'load_batches') }} as lb
    where {{ current_batch_filter('lb.batch_id') }}

),

renamed as (

    select
        source.table_name,
        source.batch_id,
        current_batch.drop_date,
        source.source_file,
        source.status = 'loaded' as is_available,
        coalesce(source.rows_loaded, 0) as rows_loaded,
        coalesce(source.rows_rejected, 0) as rows_rejected,
        coalesce(source.columns_present, '{}'::text[]) as columns_present,
        coalesce(source.extra_columns, '{}'::text[]) as extra_columns

    from source
    inner join current_batch on source.batch_id = current_batch.batch_id

)

select * from renamed
