{#- An incremental model's new rows go straight into its table. dbt-duckdb first materializes them in a temporary
    table and then copies that into the model's: every row written twice, and spilled to disk once they outgrow the
    memory limit (a whole 10 M-track catalog taken in by track_features). A temporary view instead: the
    insert runs the model's query itself, in the same transaction, after the pre-hook's delete as before. Other
    temporary tables (a unit test's) stay tables. -#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none,
                                 sorted_by=none) -%}
    {%- if temporary and language == 'sql' and model.resource_type == 'model'
          and config.get('materialized') == 'incremental' -%}
        create temporary view {{ relation.include(database=false, schema=false) }} as (
            {{ compiled_code }}
        )
    {%- else -%}
        {{ dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by) }}
    {%- endif -%}
{%- endmacro %}
