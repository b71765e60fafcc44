with events as (

    select * from "analytics"."web"."stg_segment__tracks"
    where event_date = '2026-11-20'

),

flagged as (

    select
        *,
        case when event_at - lag(event_at) over (partition by anonymous_id order by event_at) > interval '30 minutes'
             then 1 else 0 end as new_session
    from events

)

select
    anonymous_id || '-' || sum(new_session) over (partition by anonymous_id order by event_at) as session_id,
    anonymous_id,
    min(event_at) as session_start,
    max(event_at) as session_end,
    count(*) as events,
    min(channel) as channel,
    min(event_date) as session_date
from flagged
group by 1, 2
