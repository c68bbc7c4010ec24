{#- Placement type (903 PLACE) grouped as in the DfE children-looked-after publication, for
    published marts: the code_group of list placement_type in seeds/code_groupings.csv
    (docs/measures/placements-and-reviews.md); `other` for a code not in the list,
    `unknown` when there is none. -#}
{% macro placements_type_group(placement_type) -%}
    {{ code_group('placement_type', placement_type) }}
{%- endmacro %}
