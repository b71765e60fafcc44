
    
    



select contact_id
from "analytics"."prod"."dim_contacts"
where contact_id is null


