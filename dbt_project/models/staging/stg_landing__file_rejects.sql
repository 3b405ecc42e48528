with source as (
    select * from {{ source('landing', 'file_rejects') }}
),

renamed as (
    select
        track_reference::varchar as track_reference,
        reason::varchar as reason,
        raw_record::json as raw_record,
        source_file::varchar as source_file,
        source_row::bigint as source_row,
        ingested_at::timestamptz as ingested_at
    from source
)

select * from renamed
