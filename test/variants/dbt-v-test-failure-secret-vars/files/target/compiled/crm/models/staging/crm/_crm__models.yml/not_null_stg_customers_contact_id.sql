
    
    



select contact_id
from "analytics"."prod"."stg_customers"
where contact_id is null


