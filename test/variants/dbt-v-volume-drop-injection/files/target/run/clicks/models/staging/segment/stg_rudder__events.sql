
      insert into "analytics"."clicks"."stg_rudder__events" (event_id, anonymous_id, user_id, event_name, channel, event_at, event_date)
    (
        select * from "analytics"."clicks"."stg_rudder__events__dbt_tmp"
    )
  