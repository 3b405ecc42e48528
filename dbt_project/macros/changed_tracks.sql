{#- Whether the tracks a build changes (`changed`: int_changed_tracks) are most of `relation`'s rows: then
    track_features is rebuilt whole and tested whole, which costs less than finding and setting aside most of its
    rows one by one, and holds none of them in memory (a catalog file replaced by its next version, a landing zone
    moved to another folder: every track changed). False while dbt only parses. -#}
{% macro most_changed(changed, relation) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set sizes = run_query("select (select count(*) from " ~ changed ~ "), (select count(*) from " ~ relation
                              ~ ")").rows[0] -%}
    {{ return(sizes[0] > sizes[1] / 2) }}
{%- endmacro %}

{% macro set_aside_changed_tracks() -%}
    {%- set changed = ref('int_changed_tracks') -%}
    {%- if most_changed(changed, this) -%}
        delete from {{ this }}
    {%- else -%}
        create or replace temp table track_features__before as
            select * from {{ this }}
            where rowid in (select rowid from {{ this }} where track_id in (select track_id from {{ changed }}));
        delete from {{ this }} where track_id in (select track_id from {{ changed }})
    {%- endif -%}
{%- endmacro %}
