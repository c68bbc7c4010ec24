{#- Every involvement that sets a threshold level, as one span per row
    (docs/measures/transitions-and-referrals.md#1-threshold-transitions): 4 CLA (period of
    care, from int_periods_of_care: not while under V3/V4 short breaks), 3 CP plan, 2 CIN
    episode, 1 early help episode. as_of applied: spans starting after as_of are ignored,
    ends after as_of become open (null). Spans that open nothing (zero length, or ending
    before they start) are dropped: under the convention start <= d < end no day is open in
    them. -#}
with

periods_of_care as (

    select * from {{ ref('int_periods_of_care') }}

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

cla_periods as (

    {#- a period of care opens level 4 from its care start in the extract (the first
        episode's start, or the day its legal status changed from V3/V4 to another status)
        to the ceased date of its last episode; short-break periods (V3/V4 only) open no
        level 4 (docs/measures/transitions-and-referrals.md#short-breaks-are-not-care) -#}
    select
        periods_of_care.person_id,
        periods_of_care.cla_id,
        periods_of_care.care_start_date as start_date,
        periods_of_care.end_date

    from periods_of_care
    where periods_of_care.care_start_date is not null

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
