
  create view "analytics"."prod"."stg_orders"__dbt_tmp
    
    
  as (
    with source as (

    select * from "analytics"."crm_raw"."orders"

),

renamed as (

    select
        id as order_id,
        contact_id,
        status,
        promo_code,
        ordered_at,
        updated_at

    from source

)

select * from renamed
  );