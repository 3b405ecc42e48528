-- Every sighting of a track's features (and label, if any), from every landed source.
with file_tracks as (
    select * from {{ ref('stg_landing__file_tracks') }}
)

select
    track_id,
    track_name,
    artist_name,
    album_name,
    length,
    danceability,
    acousticness,
    energy,
    instrumentalness,
    liveness,
    valence,
    loudness,
    speechiness,
    tempo,
    mood,
    'file' as source_kind,
    source_file as source_name,
    source_row,
    ingested_at
from file_tracks
