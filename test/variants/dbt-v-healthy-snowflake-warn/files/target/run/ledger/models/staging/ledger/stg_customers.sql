
  create view "analytics"."prod"."stg_customers"__dbt_tmp
    
    
  as (
    with source as (

    select * from "analytics"."ledger_raw"."customers"

)

select
    id as member_id,
    email,
    first_name,
    last_name,
    country_code,
    created_at
from source
where not is_test_account
  );