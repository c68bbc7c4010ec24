{#- Placement type (903 PLACE) grouped as in the DfE children-looked-after publication, for
    published marts (codes in ../../docs/measures/placements-and-reviews.md). -#}
{% macro placements_type_group(placement_type) -%}
    case
        when {{ placement_type }} is null then 'unknown'
        when {{ placement_type }} in ('U1', 'U2', 'U3', 'U4', 'U5', 'U6') then 'foster'
        when {{ placement_type }} in ('A3', 'A4', 'A5', 'A6') then 'placed_for_adoption'
        when {{ placement_type }} = 'P1' then 'with_parents'
        when {{ placement_type }} in ('H5', 'P2', 'K3') then 'independent_or_supported'
        when {{ placement_type }} in ('K1', 'K2') then 'secure_or_childrens_home'
        when {{ placement_type }} in ('R1', 'R2', 'R3', 'R5') then 'other_residential'
        when {{ placement_type }} = 'S1' then 'residential_school'
        when {{ placement_type }} in ('T0', 'T1', 'T2', 'T3', 'T4') then 'temporary'
        else 'other'
    end
{%- endmacro %}
