with source as (

    select * from "analytics"."crm_raw"."customers"

)

select
    id as contact_id,
    email,
    first_name,
    last_name,
    country_code,
    created_at
from source
where not is_test_account
