with source as (
    select * from {{ source('landing', 'files') }}
),

renamed as (
    select
        track_id::varchar as track_id,
        track_name::varchar as track_name,
        artist_name::varchar as artist_name,
        album_name::varchar as album_name,
        length::bigint as length,
        danceability::double as danceability,
        acousticness::double as acousticness,
        energy::double as energy,
        instrumentalness::double as instrumentalness,
        liveness::double as liveness,
        valence::double as valence,
        loudness::double as loudness,
        speechiness::double as speechiness,
        tempo::double as tempo,
        mood::varchar as mood,
        source_file::varchar as source_file,
        source_row::bigint as source_row,
        ingested_at::timestamptz as ingested_at,
        filename::varchar as landed_file
    from source
)

select * from renamed
