
    
    



select order_id
from "analytics"."prod"."stg_purchases"
where order_id is null


