{{ config(materialized='view') }}

{#- Published. Each published night's headline figures as reported on the night, one set per
    night, never rewritten (dq.kpi_headlines_nightly, written by the publish step in the
    swap's transaction; a night that was not published has none). Compare with the
    monthly marts, which show each month as recorded now. A view, so tonight's row shows as
    soon as the night is published. docs/measures/teams-and-trends.md#trends. -#}
select
    nightly.as_of as night,
    nightly.published_at,
    (headline.value ->> 'source_mart')::text as source_mart,
    (headline.value ->> 'measure')::text as measure,
    (headline.value ->> 'team')::text as team,
    (headline.value ->> 'period')::text as period,
    (headline.value ->> 'period_start')::date as period_start,
    (headline.value ->> 'numerator')::integer as numerator,
    (headline.value ->> 'denominator')::integer as denominator,
    (headline.value ->> 'rate')::numeric(7, 4) as rate
from {{ source('dq', 'kpi_headlines_nightly') }} as nightly
cross join lateral jsonb_array_elements(nightly.headlines) as headline (value)
