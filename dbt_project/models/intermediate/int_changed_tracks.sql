{{ config(materialized='table') }}
-- depends_on: {{ ref('int_build_scope') }}, {{ ref('int_landed_changes') }}, {{ ref('int_landed_observations') }}
-- The tracks whose features this build may change: those sighted in the files it takes in, and those whose
-- current features came from a file it takes out or replaces. track_features recomputes exactly these. None
-- when track_features is built whole (int_build_scope): it computes every track then.
-- A track sighted twice is listed twice: its readers only ask whether a track is in it, and the distinct ids of
-- a whole catalog taken in cost more than the rest of this model (at 10 M tracks 2.6 s against 0.8 s).
{%- set features = adapter.get_relation(database=this.database, schema=this.schema, identifier='track_features') %}
{%- if features is not none and not whole_build() %}

select track_id from {{ ref('int_landed_observations') }}

union all

select track_id from {{ features }}
where landed_file in (select landed_file from {{ ref('int_landed_changes') }} where change = 'removed')
{%- else %}

select null::varchar as track_id where false
{%- endif %}
