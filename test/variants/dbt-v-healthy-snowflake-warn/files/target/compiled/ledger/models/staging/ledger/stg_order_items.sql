with source as (

    select * from "analytics"."ledger_raw"."order_items"

)

select
    id as order_item_id,
    order_id,
    sku,
    quantity,
    unit_price_cents
from source
