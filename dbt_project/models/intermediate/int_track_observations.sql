-- Every sighting of a track's features (and label, if any), from every landed source: kept up to date file by
-- file. A build first forgets the rows of the files it takes out or in (int_landed_changes), in the same
-- transaction as it adds those it takes in, so a file's new version replaces the old one's rows exactly.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where landed_file in (select landed_file from "
             ~ "{{ ref('int_landed_changes') }}){% endif %}"
) }}

-- depends_on: {{ ref('int_landed_changes') }}

select * from {{ ref('int_landed_observations') }}
