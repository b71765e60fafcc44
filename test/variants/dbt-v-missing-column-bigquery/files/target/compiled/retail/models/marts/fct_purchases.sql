with orders as (

    select * from "analytics"."prod"."stg_purchases"

),

items as (

    select
        order_id,
        sum(quantity * unit_price_cents) as items_total_cents,
        count(*) as line_count
    from "analytics"."prod"."stg_order_items"
    group by 1

),

payments as (

    select * from "analytics"."prod"."int_order_payments"

)

select
    o.order_id,
    o.customer_id,
    o.status,
    o.ordered_at,
    i.line_count,
    i.items_total_cents / 100.0 as items_total,
    p.amount_paid_cents / 100.0 as amount_paid,
    p.payment_attempts,
    o.promo_value,
    i.items_total_cents / 100.0 - o.promo_value as net_total
from orders o
left join items i using (order_id)
left join payments p using (order_id)
