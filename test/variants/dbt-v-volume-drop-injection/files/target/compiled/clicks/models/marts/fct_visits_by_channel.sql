select
    session_date,
    channel,
    count(*) as sessions,
    sum(events) as events
from "analytics"."clicks"."fct_visits"
group by 1, 2
