{#- Fails for every row with a feature outside its range (var('feature_ranges')), with a `problem` column
    saying which; null features (a source without them) pass. -#}
{% test features_in_range(model) %}

select
    concat_ws('; ',
    {%- for feature, range in var('feature_ranges').items() %}
        case when {{ feature }} not between {{ range[0] }} and {{ range[1] }}
            then '{{ feature }} ' || {{ feature }} || ' is outside {{ range[0] }}..{{ range[1] }}' end
        {{- ',' if not loop.last }}
    {%- endfor %}
    ) as problem,
    *
from {{ model }}
where
    {%- for feature, range in var('feature_ranges').items() %}
    {{ feature }} not between {{ range[0] }} and {{ range[1] }}{{ ' or' if not loop.last }}
    {%- endfor %}

{% endtest %}
