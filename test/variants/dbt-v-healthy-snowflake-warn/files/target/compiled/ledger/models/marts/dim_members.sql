with customers as (

    select * from "analytics"."prod"."stg_customers"

),

orders as (

    select * from "analytics"."prod"."stg_orders"

),

customer_orders as (

    select
        member_id,
        min(ordered_at) as first_order_at,
        max(ordered_at) as most_recent_order_at,
        count(order_id) as number_of_orders
    from orders
    group by 1

)

select
    customers.member_id,
    customers.email,
    customers.first_name,
    customers.last_name,
    customers.country_code,
    customer_orders.first_order_at,
    customer_orders.most_recent_order_at,
    coalesce(customer_orders.number_of_orders, 0) as number_of_orders
from customers
left join customer_orders using (member_id)
