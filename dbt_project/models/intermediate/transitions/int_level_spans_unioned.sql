{#- Every involvement that sets a threshold level, as one span per row
    (docs/measures/transitions-and-referrals.md#1-threshold-transitions): 4 CLA (period of
    care), 3 CP plan, 2 CIN episode, 1 early help episode. as_of applied: spans starting
    after as_of are ignored, ends after as_of become open (null). Spans that open nothing
    (zero length, or ending before they start) are dropped: under the convention start <= d
    < end no day is open in them. -#}
with

cla_episodes as (

    select * from {{ ref('stg_ssd__cla_episodes') }}

),

cp_plans as (

    select * from {{ ref('stg_ssd__cp_plans') }}

),

cin_episodes as (

    select * from {{ ref('stg_ssd__cin_episodes') }}

),

early_help_episodes as (

    select * from {{ ref('stg_ssd__early_help_episodes') }}

),

cla_episodes_as_of as (

    select
        cla_episodes.person_id,
        cla_episodes.cla_id,
        cla_episodes.start_date,
        cla_episodes.end_date

    from cla_episodes
    where
        cla_episodes.start_date is not null
        and cla_episodes.start_date <= {{ as_of() }}

),

cla_periods as (

    {#- a period of care runs from its first episode's start to the ceased date of its
        last episode (the one starting last; an open last episode keeps it open) -#}
    select
        cla_episodes_as_of.person_id,
        cla_episodes_as_of.cla_id,
        min(cla_episodes_as_of.start_date) as start_date,
        (array_agg(
            cla_episodes_as_of.end_date
            order by
                cla_episodes_as_of.start_date desc,
                cla_episodes_as_of.end_date desc nulls first
        ))[1] as end_date

    from cla_episodes_as_of
    group by cla_episodes_as_of.person_id, cla_episodes_as_of.cla_id

),

unioned as (

    select
        cla_periods.person_id,
        4 as level,
        'cla_period' as source_type,
        cla_periods.cla_id as source_id,
        cla_periods.start_date,
        cla_periods.end_date
    from cla_periods

    union all

    select
        cp_plans.person_id,
        3 as level,
        'cp_plan' as source_type,
        cp_plans.cp_plan_id as source_id,
        cp_plans.start_date,
        cp_plans.end_date
    from cp_plans

    union all

    select
        cin_episodes.person_id,
        2 as level,
        'cin_episode' as source_type,
        cin_episodes.referral_id as source_id,
        cin_episodes.referral_date as start_date,
        cin_episodes.close_date as end_date
    from cin_episodes

    union all

    select
        early_help_episodes.person_id,
        1 as level,
        'early_help_episode' as source_type,
        early_help_episodes.early_help_episode_id as source_id,
        early_help_episodes.start_date,
        early_help_episodes.end_date
    from early_help_episodes

),

as_of_applied as (

    select
        unioned.person_id,
        unioned.level,
        unioned.source_type,
        unioned.source_id,
        unioned.start_date,
        {{ end_as_of('unioned.end_date', as_of()) }} as end_date

    from unioned
    where
        unioned.person_id is not null
        and unioned.start_date is not null
        and unioned.start_date <= {{ as_of() }}

),

final as (

    select
        as_of_applied.person_id,
        as_of_applied.level,
        as_of_applied.source_type,
        as_of_applied.source_id,
        as_of_applied.start_date,
        as_of_applied.end_date

    from as_of_applied
    where as_of_applied.end_date is null or as_of_applied.end_date > as_of_applied.start_date

)

select * from final
