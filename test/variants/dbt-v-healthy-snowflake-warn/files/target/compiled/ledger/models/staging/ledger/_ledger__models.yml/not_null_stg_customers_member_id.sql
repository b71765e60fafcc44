
    
    



select member_id
from "analytics"."prod"."stg_customers"
where member_id is null


