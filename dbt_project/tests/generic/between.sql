{#- Fails for every non-null value outside [min_value, max_value]; either bound may be left out.
    With min_inclusive=false the lower bound itself is out of range. -#}
{% test between(model, column_name, min_value=none, max_value=none, min_inclusive=true) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and (
    {% if min_value is not none -%}
      {{ column_name }} {{ '<' if min_inclusive else '<=' }} {{ min_value }}
    {%- else -%} false {%- endif %}
    or
    {% if max_value is not none -%}
      {{ column_name }} > {{ max_value }}
    {%- else -%} false {%- endif %}
  )

{% endtest %}
