{#- Published dimension: the age bands the marts use instead of dates of birth
    (age_band(), macros/pseudonymise.sql), with labels and an order. -#}
{%- set bands = age_bands() %}

select
    bands.age_band::text as age_band,
    bands.age_band_label::text as age_band_label,
    bands.youngest::integer as youngest_age,
    bands.oldest::integer as oldest_age,
    bands.sort_order::integer as sort_order
from (
    values
    {%- for band, label, youngest, oldest in bands %}
        (
            '{{ band }}', '{{ label }}',
            {{ 'null' if youngest is none else youngest }},
            {{ 'null' if oldest is none else oldest }},
            {{ loop.index }}
        ){{ ',' if not loop.last }}
    {%- endfor %}
) as bands (age_band, age_band_label, youngest, oldest, sort_order)
