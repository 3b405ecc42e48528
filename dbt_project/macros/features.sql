{#- The contract's ten features, as a column list: `{{ feature_columns() }}` or `{{ feature_columns('t.') }}`. -#}
{% macro feature_columns(prefix='') -%}
    {%- for feature in var('features') -%}
        {{ prefix }}{{ feature }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- True when a row has every feature: only such rows can be scored or trained on. -#}
{% macro has_all_features() -%}
    {%- for feature in var('features') -%}
        {{ feature }} is not null{{ ' and ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- A sighting's columns in int_track_observations, from a landing source's rows: the names, the features, the
    label, which kind of source and which of its rows (SQL expressions), when it was ingested and the landed file. -#}
{% macro observation_columns(source_kind, source_name, source_row) -%}
    track_id, track_name, artist_name, album_name, {{ feature_columns() }}, mood,
    '{{ source_kind }}' as source_kind, {{ source_name }} as source_name, {{ source_row }} as source_row,
    ingested_at, landed_file
{%- endmacro %}

{#- A sighting's columns, as track_features weighs them: the names, the features, and what orders sightings
    (ingested_at, source_name, source_row) and where they came from. ingested_at: the column that holds it. -#}
{% macro sighting_columns(ingested_at='ingested_at') -%}
    track_id, track_name, artist_name, album_name, {{ feature_columns() }},
    {{ ingested_at }} as ingested_at, source_name, source_row, landed_file
{%- endmacro %}
