-- Every input row that could not be used, with the reason: nothing is dropped silently.
with file_rejects as (
    select * from {{ ref('stg_landing__file_rejects') }}
),

spotify_rejects as (
    select * from {{ ref('stg_landing__spotify_rejects') }}
)

select
    'file' as source_kind,
    source_file as source_name,
    source_row,
    track_reference,
    reason,
    raw_record,
    ingested_at
from file_rejects

union all

select
    'spotify' as source_kind,
    source_name,
    source_row,
    track_reference,
    reason,
    raw_record,
    ingested_at
from spotify_rejects
