with source as (

    select * from "analytics"."retail_raw"."orders"

),

renamed as (

    select
        id as order_id,
        customer_id,
        status,
        promo_code,
        ordered_at,
        updated_at

    from source

)

select * from renamed
