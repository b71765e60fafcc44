
    
    



select member_id
from "analytics"."prod"."dim_members"
where member_id is null


