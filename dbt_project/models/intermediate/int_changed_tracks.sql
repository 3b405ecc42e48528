{{ config(materialized='table') }}
-- depends_on: {{ ref('int_landed_changes') }}, {{ ref('int_landed_observations') }}
-- The tracks whose features this build may change: those sighted in the files it takes in, and those whose
-- current features came from a file it takes out or replaces. track_features recomputes exactly these. None
-- when track_features is built whole (a first build, `--full-refresh`): it computes every track then.
{%- set features = adapter.get_relation(database=this.database, schema=this.schema, identifier='track_features') %}
{%- if features is not none and not flags.FULL_REFRESH %}

select track_id from {{ ref('int_landed_observations') }}

union

select track_id from {{ features }}
where landed_file in (select landed_file from {{ ref('int_landed_changes') }})
{%- else %}

select null::varchar as track_id where false
{%- endif %}
