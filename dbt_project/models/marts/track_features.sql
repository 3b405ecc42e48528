-- The catalog to score: the latest complete features seen for each track.
with observations as (
    select * from {{ ref('int_track_observations') }}
),

complete as (
    select *
    from observations
    where length is not null
        and danceability is not null
        and acousticness is not null
        and energy is not null
        and instrumentalness is not null
        and liveness is not null
        and valence is not null
        and loudness is not null
        and speechiness is not null
        and tempo is not null
),

latest as (
    select *
    from complete
    qualify row_number() over (
        partition by track_id
        order by ingested_at desc, source_name desc, source_row desc
    ) = 1
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
    ingested_at as features_updated_at
from latest
