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

{#- A sighting's columns, as track_features weighs them: the names, the features, and what orders sightings
    (ingested_at, source_name, source_row) and where they came from. ingested_at: the column that holds it. -#}
{% macro sighting_columns(ingested_at='ingested_at') -%}
    track_id, track_name, artist_name, album_name, {{ feature_columns() }},
    {{ ingested_at }} as ingested_at, source_name, source_row, landed_file
{%- endmacro %}
