
  
    

  create  table "analytics"."clicks"."fct_visits_by_channel"__dbt_tmp
  
  
    as
  
  (
    select
    session_date,
    channel,
    count(*) as sessions,
    sum(events) as events
from "analytics"."clicks"."fct_visits"
group by 1, 2
  );
  
  