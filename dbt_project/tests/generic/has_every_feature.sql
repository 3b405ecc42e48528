{#- Fails for every row that lacks a feature (var('features')): one test for the ten, where a not_null test per
    column would be ten dbt nodes, each with its own start-up, on every build. -#}
{% test has_every_feature(model) %}

select *
from {{ model }}
where not ({{ has_all_features() }})

{% endtest %}
