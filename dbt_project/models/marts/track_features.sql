-- The catalog to score: the latest complete features seen for each track. Incremental: a build recomputes the
-- tracks it may change (int_changed_tracks) from all their sightings, deleting their rows first in the same
-- transaction, so a track whose only file is replaced without it goes; `--full-refresh` computes them all.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where track_id in (select track_id from "
             ~ "{{ ref('int_changed_tracks') }}){% endif %}"
) }}
-- depends_on: {{ ref('int_changed_tracks') }}

with observations as (
    select * from {{ ref('int_track_observations') }}
    {%- if is_incremental() %}
    where track_id in (select track_id from {{ ref('int_changed_tracks') }})
    {%- endif %}
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
    ingested_at as features_updated_at,
    landed_file
from latest
