{#- The landing zone's Parquet glob for one source folder, as a SQL string (a quote in MOODCAST_HOME doubled):
    the path models/staging/_landing__sources.yml reads, where a macro cannot be called. -#}
{% macro landing_glob(folder) -%}
    '{{ env_var('MOODCAST_HOME', '../warehouse') | replace("'", "''") }}/landing/{{ folder }}/*.parquet'
{%- endmacro %}

{#- The landed track files, each with a version that changes whenever the file does (ingest replaces a file
    by renaming a new one into place): its path, size and modification time. read_blob reads no content
    for these columns. -#}
{% macro landed_track_files() -%}
    select
        filename as landed_file,
        filename || ' ' || size || ' ' || epoch_us(last_modified) as landed_version
    from read_blob([{{ landing_glob('files') }}, {{ landing_glob('spotify') }}])
    where not ends_with(filename, '/_schema.parquet')
{%- endmacro %}

{#- `landed_file in (…)` for the files this build takes in, as constants, so that DuckDB reads only those
    files' Parquet (it prunes files on constant filters); `false` when there are none. -#}
{% macro taking_in(changes) -%}
    {%- set files = [] -%}
    {%- if execute and load_relation(changes) is not none -%}
        {%- set files = run_query("select landed_file from " ~ changes ~ " where change = 'landed' order by 1").columns[0].values() -%}
    {%- endif -%}
    {%- if files -%}
        landed_file in ({% for file in files %}'{{ file | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
