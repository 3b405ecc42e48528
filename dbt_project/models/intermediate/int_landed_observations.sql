-- The sightings in the files this build takes in (int_landed_changes): what the data tests check, and what
-- int_track_observations adds. Only those files' Parquet is read.
with changes as (
    select landed_file, landed_version
    from {{ ref('int_landed_changes') }}
    where change = 'landed'
),

file_tracks as (
    select * from {{ ref('stg_landing__file_tracks') }}
    where {{ taking_in(ref('int_landed_changes')) }}
),

-- Tracks without complete features stay: their labels count in label_conflicts; track_features leaves them out.
spotify_tracks as (
    select * from {{ ref('stg_landing__spotify_tracks') }}
    where {{ taking_in(ref('int_landed_changes')) }}
),

observations as (
    select
        track_id,
        track_name,
        artist_name,
        album_name,
        {{ feature_columns() }},
        mood,
        'file' as source_kind,
        source_file as source_name,
        source_row,
        ingested_at,
        landed_file
    from file_tracks

    union all

    select
        track_id,
        track_name,
        artist_name,
        album_name,
        {{ feature_columns() }},
        mood,
        'spotify' as source_kind,
        'spotify:' || collection_type || ':' || collection_id as source_name,
        collection_position as source_row,
        ingested_at,
        landed_file
    from spotify_tracks
)

select observations.*, changes.landed_version
from observations
inner join changes using (landed_file)
