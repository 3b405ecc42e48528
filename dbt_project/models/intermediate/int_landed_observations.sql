-- The sightings in the files this build takes in (int_landed_changes): what the data tests check, and what
-- track_features weighs against the features it has. Only those files' Parquet is read: DuckDB prunes the
-- others on the constant file names.
with changes as (
    select landed_file, landed_version
    from {{ ref('int_landed_changes') }}
    where change = 'landed'
)

select observations.*, changes.landed_version
from {{ ref('int_track_observations') }} as observations
inner join changes using (landed_file)
where {{ taking_in(ref('int_landed_changes')) }}
