-- Labelled tracks whose sources all agree on the mood, with their current features.
with labels as (
    select track_id, mood, source_name
    from {{ ref('int_track_observations') }}
    where mood is not null
),

agreed as (
    select
        track_id,
        any_value(mood) as mood,
        list(distinct source_name order by source_name) as source_names
    from labels
    group by track_id
    having count(distinct mood) = 1
),

features as (
    select * from {{ ref('track_features') }}
)

select
    features.track_id,
    {{ feature_columns('features.') }},
    agreed.mood,
    agreed.source_names
from agreed
inner join features on agreed.track_id = features.track_id
