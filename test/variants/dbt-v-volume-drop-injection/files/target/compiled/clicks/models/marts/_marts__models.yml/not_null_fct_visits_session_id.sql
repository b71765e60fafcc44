
    
    



select session_id
from "analytics"."clicks"."fct_visits"
where session_id is null


