with source as (

    select * from "analytics"."retail_raw"."customers"

)

select
    id as customer_id,
    email,
    first_name,
    last_name,
    country_code,
    created_at
from source
where not is_test_account
