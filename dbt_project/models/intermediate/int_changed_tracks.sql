{{ config(materialized='table') }}
-- depends_on: {{ ref('int_landed_changes') }}
-- The tracks whose features this build may change: those sighted in the files it takes in, and those whose
-- current features came from a file it takes out or replaces. track_features recomputes exactly these.
{%- set features = adapter.get_relation(database=this.database, schema=this.schema, identifier='track_features') %}

select track_id from {{ ref('int_landed_observations') }}
{%- if features is not none and not flags.FULL_REFRESH %}

union

select track_id from {{ features }}
where landed_file in (select landed_file from {{ ref('int_landed_changes') }})
{%- endif %}
