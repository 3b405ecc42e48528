-- Every sighting of a track's features (and label, if any) in the landing zone, as it is now: a view, so the
-- landed Parquet is never copied into the warehouse. training_examples and label_conflicts read its labels;
-- track_features reads it whole on a first build or `--full-refresh`, and otherwise only for the tracks whose
-- features came from a file a build takes out.
with file_tracks as (
    select * from {{ ref('stg_landing__file_tracks') }}
),

-- Tracks without complete features stay: their labels count in label_conflicts; track_features leaves them out.
spotify_tracks as (
    select * from {{ ref('stg_landing__spotify_tracks') }}
)

select {{ observation_columns('file', 'source_file', 'source_row') }}
from file_tracks

union all

select {{ observation_columns('spotify', "'spotify:' || collection_type || ':' || collection_id", 'collection_position') }}
from spotify_tracks
