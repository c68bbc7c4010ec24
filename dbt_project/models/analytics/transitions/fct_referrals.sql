{#- One row per referral (CIN episode) dated on or before as_of, with the DfE re-referral
    flag (docs/measures/transitions-and-referrals.md#4-referral-and-cp-plan-measures):
    another referral of the same child dated within re_referral_window_months before it.
    Every referral counts, a zero-length NFA referral included. Person level: restricted
    schema. -#}
with

cin_episodes as (

    select * from {{ ref('stg_ssd__cin_episodes') }}

),

referrals as (

    select
        cin_episodes.referral_id,
        cin_episodes.person_id,
        cin_episodes.referral_date,
        cin_episodes.referral_source_code,
        cin_episodes.is_referral_nfa,
        {{ end_as_of('cin_episodes.close_date', as_of()) }} as close_date,
        cin_episodes.close_reason

    from cin_episodes
    where
        cin_episodes.person_id is not null
        and cin_episodes.referral_date is not null
        and cin_episodes.referral_date <= {{ as_of() }}

),

previous_found as (

    {#- the latest earlier referral of the child: dated strictly before this one (two
        referrals on the same day are not re-referrals of each other) -#}
    select
        referrals.referral_id,
        referrals.person_id,
        referrals.referral_date,
        referrals.referral_source_code,
        referrals.is_referral_nfa,
        referrals.close_date,
        referrals.close_reason,
        max(referrals.referral_date) over (
            partition by referrals.person_id
            order by referrals.referral_date
            range between unbounded preceding and interval '1 day' preceding
        ) as previous_referral_date,
        count(*) over (
            partition by referrals.person_id
            order by referrals.referral_date
            range between unbounded preceding and interval '1 day' preceding
        ) as previous_referrals

    from referrals

),

final as (

    select
        previous_found.person_id,
        {{ child_key('previous_found.person_id') }} as child_key,
        previous_found.referral_id,
        previous_found.referral_date,
        date_trunc('month', previous_found.referral_date)::date as referral_month,
        previous_found.referral_source_code as referral_source,
        coalesce(previous_found.is_referral_nfa, false) as is_referral_nfa,
        previous_found.close_date,
        previous_found.close_reason,
        (
            previous_found.close_date is not null
            and previous_found.close_date <= previous_found.referral_date
        ) as is_zero_length,
        previous_found.previous_referral_date,
        previous_found.referral_date
        - previous_found.previous_referral_date as days_since_previous_referral,
        previous_found.previous_referrals::integer as previous_referrals,
        coalesce(
            {{ within_months(
                'previous_found.previous_referral_date',
                'previous_found.referral_date',
                var('re_referral_window_months')
            ) }},
            false
        ) as is_re_referral,
        {{ as_of() }} as as_of

    from previous_found

)

-- team and worker on the referral date (int_allocations_dated, docs/measures/teams-and-trends.md)
select
    final.*,
    {{ allocation_columns('alloc') }}
from final
{{ allocation_at('final.person_id', 'final.referral_date', 'alloc') }}
