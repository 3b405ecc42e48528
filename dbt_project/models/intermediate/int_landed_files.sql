{{ config(materialized='table') }}
-- depends_on: {{ ref('track_features') }}
-- The landed track files (and their versions) the warehouse has taken in. Built last: a build that stops
-- before it takes the same files in again next time, and every step of taking them in is idempotent.
{%- set previous = load_relation(this) %}

select landed_file, landed_version
from {{ ref('int_landed_changes') }}
where change = 'landed'
{%- if previous is not none and not flags.FULL_REFRESH %}

union all

select landed_file, landed_version
from {{ previous }}
where landed_version not in (select landed_version from {{ ref('int_landed_changes') }} where change = 'removed')
{%- endif %}
