with source as (
    select * from {{ source('landing', 'spotify_rejects') }}
),

renamed as (
    select
        track_reference::varchar as track_reference,
        reason::varchar as reason,
        raw_record::json as raw_record,
        source_name::varchar as source_name,
        source_row::bigint as source_row,
        ingested_at::timestamptz as ingested_at
    from source
)

select * from renamed
