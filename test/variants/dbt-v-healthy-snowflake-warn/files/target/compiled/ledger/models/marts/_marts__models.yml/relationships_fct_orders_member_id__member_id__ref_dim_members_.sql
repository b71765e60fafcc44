
    
    

with child as (
    select member_id as from_field
    from "analytics"."prod"."fct_orders"
    where member_id is not null
),

parent as (
    select member_id as to_field
    from "analytics"."prod"."dim_members"
)

select
    from_field

from child
left join parent
    on child.from_field = parent.to_field

where parent.to_field is null


