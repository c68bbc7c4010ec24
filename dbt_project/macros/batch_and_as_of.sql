{#- The load batch staging reads: var('batch_id') when the runner passes it, else the latest
    loaded batch. -#}
{% macro current_batch_filter(column='_batch_id') -%}
    {%- if var('batch_id', none) -%}
        {{ column }} = '{{ var("batch_id") }}'
    {%- else -%}
        {{ column }} = (
            select latest.batch_id from {{ source('cscw', 'load_batches') }} as latest
            where latest.status = 'loaded'
            order by latest.drop_date desc, latest.finished_at desc
            limit 1
        )
    {%- endif -%}
{%- endmacro %}

{#- The date the marts describe: var('as_of') (the runner passes the drop date or --as-of),
    else the drop date of the current batch. -#}
{% macro as_of() -%}
    {%- if var('as_of', none) -%}
        date '{{ var("as_of") }}'
    {%- else -%}
        (
            select max(lb.drop_date) from {{ source('cscw', 'load_batches') }} as lb
            where lb.status = 'loaded'
        )
    {%- endif -%}
{%- endmacro %}
