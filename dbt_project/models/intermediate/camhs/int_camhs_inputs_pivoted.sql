{#- One row: whether tonight's drop carried the optional extension table ext_camhs_referrals
    (docs/measures/camhs-waits.md), from the loader's record of the night's files
    (stg_cscw__load_files; macros/drop_inputs.sql). Absent: the CAMHS measures are not
    available (null), never zero; a file delivered with zero rows is available. -#}
with

load_files as (

    select * from {{ ref('stg_cscw__load_files') }}

),

final as (

    select
        {{ drop_carries('ext_camhs_referrals') }} as is_camhs_available

    from load_files

)

select * from final
