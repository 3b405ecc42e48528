-- The catalog to score: the latest complete features seen for each track.
with observations as (
    select * from {{ ref('int_track_observations') }}
),

complete as (
    select *
    from observations
    where {{ has_all_features() }}
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
    {{ feature_columns() }},
    ingested_at as features_updated_at
from latest
