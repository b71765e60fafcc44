select
    id as event_id,
    anonymous_id,
    user_id,
    event as event_name,
    coalesce(context_campaign_source, 'direct') as channel,
    "timestamp" as event_at,
    "timestamp"::date as event_date
from "analytics"."segment"."tracks"
where received_at > (select max(event_at) from "analytics"."clicks"."stg_rudder__events") - interval '3 hours'
