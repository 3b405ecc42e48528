{{ config(materialized='table') }}
-- depends_on: {{ ref('int_landed_changes') }}, {{ ref('int_landed_observations') }}
-- Whether this build computes track_features whole, decided once for every model and test of the build
-- (macros/changed_tracks.sql): a first build, `--full-refresh`, or a build whose changed sightings outnumber half
-- the tracks (a catalog file replaced by its next version, a landing zone moved to another folder). Finding and
-- setting aside most rows one by one costs more than weighing every sighting again, and holds them in memory;
-- listing 10 M changed ids costs 2 s. Counted without reading the sightings: Parquet keeps its row counts.
{%- set features = adapter.get_relation(database=this.database, schema=this.schema, identifier='track_features') %}
{%- if features is not none and not flags.FULL_REFRESH %}

with changed as (
    select
        (select count(*) from {{ ref('int_landed_observations') }})
        + (
            select count(*) from {{ features }}
            where landed_file in (select landed_file from {{ ref('int_landed_changes') }} where change = 'removed')
        ) as sightings,
        (select count(*) from {{ features }}) as tracks
)

select sightings > tracks / 2 as whole, sightings as changed_sightings
from changed
{%- else %}

select true as whole, null::bigint as changed_sightings
{%- endif %}
