-- The catalog to score: the latest complete features seen for each track, with the sighting they came from.
-- Incremental: "latest" is a maximum, so a build weighs only the sightings it takes in against the features the
-- changed tracks (int_changed_tracks) have, which it sets aside and deletes first, in the same transaction. A
-- track whose features came from a file the build takes out is weighed again from all its sightings left, and
-- goes if none is left. A first build, `--full-refresh`, or a build that changes most tracks (int_build_scope)
-- weighs every sighting in the landing zone instead. Track ids are stored uncompressed (macros/create_table_as.sql):
-- random ids hardly compress, and trying costs a fifth of a whole build.
{%- set whole = not is_incremental() or whole_build() %}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    column_compression={'track_id': 'uncompressed'},
    pre_hook="{% if is_incremental() %}{{ set_aside_changed_tracks() }}{% endif %}"
) }}
-- depends_on: {{ ref('int_build_scope') }}, {{ ref('int_changed_tracks') }}, {{ ref('int_landed_changes') }}, {{ ref('int_landed_observations') }}

with
{%- if whole %}
candidates as not materialized (
    select {{ sighting_columns() }}
    from {{ ref('int_track_observations') }}
    where {{ has_all_features() }}
),
{%- else %}
taken_out as (
    select landed_file from {{ ref('int_landed_changes') }} where change = 'removed'
),

candidates as not materialized (
    select {{ sighting_columns() }}
    from {{ ref('int_landed_observations') }}
    where {{ has_all_features() }}

    union all

    select {{ sighting_columns(ingested_at='features_updated_at') }}
    from track_features__before
    where landed_file not in (select landed_file from taken_out)

    union all

    select {{ sighting_columns() }}
    from {{ ref('int_track_observations') }}
    where {{ has_all_features() }}
        and track_id in (
            select track_id from track_features__before where landed_file in (select landed_file from taken_out)
        )
),
{%- endif %}

-- Most tracks have one candidate: those are kept as they are, and only the others are ranked, a window over a
-- few rows instead of a sort of the catalog (at 10 M tracks 15 s against 37 s). Counted on the ids' 64-bit
-- hashes, which DuckDB aggregates far faster than strings; a collision only sends a track to the ranking.
repeated as (
    select hash(track_id) as track_key
    from candidates
    group by track_key
    having count(*) > 1
),

latest as (
    select * from candidates
    where hash(track_id) not in (select track_key from repeated)

    union all

    select * from candidates
    where hash(track_id) in (select track_key from repeated)
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
    ingested_at as features_updated_at,
    source_name,
    source_row,
    landed_file
from latest
