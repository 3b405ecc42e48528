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

{#- What tells one sighting in int_track_observations from the others, within one query: DuckDB's rowid. A unit
    test, whose inputs are not tables, overrides it with a column of its rows. -#}
{% macro observation_key() -%}
    rowid
{%- endmacro %}
