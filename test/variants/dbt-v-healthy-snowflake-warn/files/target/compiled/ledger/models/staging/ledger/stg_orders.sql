with source as (

    select * from "analytics"."ledger_raw"."orders"

),

renamed as (

    select
        id as order_id,
        member_id,
        status,
        promo_code,
        ordered_at,
        updated_at

    from source

)

select * from renamed
