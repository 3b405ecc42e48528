{#- How moodcast's models create their tables, where it differs from dbt-duckdb:

    - An incremental model's new rows go straight into its table. dbt-duckdb first materializes them in a
      temporary table and then copies that into the model's: every row written twice, and spilled to disk once
      they outgrow the memory limit (a whole 10 M-track catalog taken in by track_features). A temporary view
      instead: the insert runs the model's query itself, in the same transaction, after the pre-hook's delete as
      before. Other temporary tables (a unit test's) stay tables.
    - A model's `column_compression` config ({column: method}) declares those columns with DuckDB's
      `USING COMPRESSION`, which a table keeps for every later insert. Random track ids shrink by about a fifth
      under DuckDB's string compression, which costs a fifth of track_features' whole build and doubles what a
      look-up of ids costs (docs/performance.md). -#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none,
                                 sorted_by=none) -%}
    {%- set column_compression = config.get('column_compression') or {} -%}
    {%- if temporary and language == 'sql' and model.resource_type == 'model'
          and config.get('materialized') == 'incremental' -%}
        create temporary view {{ relation.include(database=false, schema=false) }} as (
            {{ compiled_code }}
        )
    {%- elif column_compression and not temporary and language == 'sql' -%}
        {{ create_table_with_column_compression(relation, compiled_code, column_compression) }}
    {%- else -%}
        {{ dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by) }}
    {%- endif -%}
{%- endmacro %}

{#- The table's columns and types are the query's own, as DuckDB describes it without running it. -#}
{% macro create_table_with_column_compression(relation, compiled_code, column_compression) -%}
    {%- set columns = run_query('describe select * from (' ~ compiled_code ~ ') as model_subq').rows -%}
    {%- set names = columns | map(attribute=0) | list -%}
    {%- for name in column_compression if name not in names -%}
        {{ exceptions.raise_compiler_error(
            "column_compression names " ~ name ~ ", which " ~ model.name ~ " does not have (its columns: "
            ~ names | join(', ') ~ ")") }}
    {%- endfor -%}
    create table {{ relation }} (
        {%- for column in columns %}
        {{ adapter.quote(column[0]) }} {{ column[1] }}
            {%- if column[0] in column_compression %} using compression {{ column_compression[column[0]] }}{% endif %}
            {{- "," if not loop.last }}
        {%- endfor %}
    );
    insert into {{ relation }} select * from ({{ compiled_code }}) as model_subq
{%- endmacro %}
