
  create view "analytics"."prod"."stg_order_items"__dbt_tmp
    
    
  as (
    with source as (

    select * from "analytics"."retail_raw"."order_items"

)

select
    id as order_item_id,
    order_id,
    sku,
    quantity,
    unit_price_cents
from source
  );