with source as (
    select * from {{ source('landing', 'spotify') }}
),

renamed as (
    select
        track_id::varchar as track_id,
        track_name::varchar as track_name,
        artist_name::varchar as artist_name,
        album_id::varchar as album_id,
        album_name::varchar as album_name,
        release_date::varchar as release_date,
        duration_ms::bigint as duration_ms,
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
        features_status::varchar as features_status,
        features_provider::varchar as features_provider,
        mood::varchar as mood,
        collection_type::varchar as collection_type,
        collection_id::varchar as collection_id,
        collection_name::varchar as collection_name,
        collection_position::bigint as collection_position,
        requested_as::varchar as requested_as,
        ingested_at::timestamptz as ingested_at,
        filename::varchar as landed_file
    from source
)

select * from renamed
