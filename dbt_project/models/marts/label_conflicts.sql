-- Tracks whose sources disagree on the mood: excluded from training_examples, listed here.
-- depends_on: {{ ref('int_landed_observations') }} (where the labels taken in are tested: a failing test skips this)
with labels as (
    select track_id, mood, source_name
    from {{ ref('int_track_observations') }}
    where mood is not null
),

per_track as (
    select
        track_id,
        list_sort(list_distinct(list(mood))) as moods_seen,
        count(*) as label_count,
        list_sort(list_distinct(list(source_name))) as source_names
    from labels
    group by track_id
)

select track_id, moods_seen, label_count, source_names
from per_track
where len(moods_seen) > 1
