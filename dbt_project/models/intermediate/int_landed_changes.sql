{{ config(materialized='table') }}
-- What this build takes in and out of the warehouse, file by file: 'landed' for a track file that is new (or a
-- new version of one), 'removed' for one the last complete build took in that is gone or replaced. Everything
-- is 'landed' for a first build or `dbt build --full-refresh`.
{%- set taken_in = adapter.get_relation(database=this.database, schema=this.schema, identifier='int_landed_files') %}

with landed as (
    {{ landed_track_files() }}
),

taken_in as (
    {%- if taken_in is not none and not flags.FULL_REFRESH %}
    select landed_file, landed_version from {{ taken_in }}
    {%- else %}
    select null::varchar as landed_file, null::varchar as landed_version where false
    {%- endif %}
)

select landed_file, landed_version, 'landed' as change
from landed
where landed_version not in (select landed_version from taken_in)

union all

select landed_file, landed_version, 'removed' as change
from taken_in
where landed_version not in (select landed_version from landed)
