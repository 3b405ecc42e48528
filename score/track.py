"""`python -m score track ID_OR_URI_OR_URL`: the mood of one track, with the current model.

The features come from the warehouse's track_features when the track is there (opened read-only,
so a build or a scoring run can go on meanwhile), else from Spotify's metadata and the same
feature providers `python -m ingest spotify` uses. Nothing is written anywhere.

`--explain` adds why: each feature's exact Shapley contribution to the mood's probability, against a track
with the training data's mean features, largest first (moodcast.model.explain).
"""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ingest.spotify.fetch import fetch_track
from ingest.spotify.retry import RetryPolicy
from moodcast import settings, warehouse
from moodcast.contract import CLASSES, FEATURES
from moodcast.errors import BadInputError, NotReadyError
from moodcast.model.explain import explanation, shapley_values
from moodcast.model.profile import baseline
from moodcast.model.registry import ModelVersion
from score.engines import engine_for
from score.plan import model_features


@dataclass(frozen=True)
class TrackToScore:
    track_id: str
    name: str | None
    artists: str | None
    features: dict[str, float]
    origin: str  # where the features came from, for the user


def warehouse_track(track_id: str) -> TrackToScore | None:
    """The track as track_features holds it, or None when the warehouse does not have it (yet)."""
    if not settings.database_path().exists():
        return None
    with warehouse.connect(read_only=True) as connection:
        try:
            warehouse.require_table(connection, "track_features", "")
        except NotReadyError:
            return None
        rows = connection.execute(
            f"select track_name, artist_name, features_updated_at, {', '.join(FEATURES)} "
            "from track_features where track_id = ?",
            [track_id],
        ).fetchall()
    if not rows:
        return None
    name, artists, updated_at, *values = rows[0]
    return TrackToScore(track_id, name, artists, dict(zip(FEATURES, values, strict=True)),
                        f"the warehouse (track_features, as of {updated_at:%Y-%m-%d %H:%M %Z})")


def spotify_track(track_id: str, features_source: str, policy: RetryPolicy) -> TrackToScore:
    """The track's metadata from Spotify, its features from `features_source` (see ingest.spotify.features)."""
    metadata, result = fetch_track(track_id, features_source, policy)
    if result is None or result.status != "complete":
        why = "the provider refused the track" if result is None else {
            "missing": "the provider has none", "incomplete": "some are missing", "invalid": result.problem,
        }[result.status]
        raise BadInputError(
            f"cannot predict the mood of {metadata['track_name']!r} ({track_id}): no complete audio features "
            f"for it ({why}; --features {features_source})"
        )
    return TrackToScore(track_id, metadata["track_name"], metadata["artist_name"], result.values,
                        f"{result.provider} (fetched now)")


def predict(track: TrackToScore, model_version: ModelVersion) -> dict[str, float]:
    """The four mood probabilities, computed exactly as `python -m score` computes them for a catalog."""
    features = model_features(model_version)
    table = pa.table({"track_id": [track.track_id], **{name: [float(track.features[name])] for name in features}})
    (probabilities,) = engine_for(model_version).predict(table)
    return dict(zip(CLASSES, probabilities.tolist(), strict=True))


def format_prediction(track: TrackToScore, probabilities: dict[str, float], model_version: str) -> str:
    mood = max(probabilities, key=probabilities.get)
    title = " — ".join(part for part in (track.name, track.artists) if part) or track.track_id
    lines = [f"{title}: {mood} ({probabilities[mood]:.2f})"]
    lines += [f"  {candidate:<10} {probability:.2f}" for candidate, probability in probabilities.items()]
    lines.append(f"features from {track.origin}; model {model_version}")
    return "\n".join(lines)


def explain(track: TrackToScore, model_version: ModelVersion) -> str:
    """Why the track got its mood: each feature's Shapley contribution to that mood's probability, computed by the
    scoring engine on the 1,024 coalitions at once (see moodcast.model.explain)."""
    features = model_features(model_version)
    profile = model_version.metadata().get("data", {}).get("profile")
    if profile is None:
        raise BadInputError(f"model {model_version.version} has no profile of its training data, the baseline of "
                            "explanations (trained by an earlier moodcast): retrain (`make train`) to explain")
    engine, mean = engine_for(model_version), baseline(profile, features)
    values = np.array([track.features[name] for name in features], dtype=np.float64)

    def predict(rows: np.ndarray) -> np.ndarray:
        return engine.compute([np.ascontiguousarray(rows[:, i]) for i in range(len(features))]).T

    contributions = shapley_values(predict, values, mean)[0]
    probabilities = predict(np.vstack([values, mean]).astype(np.float32))
    mood = int(probabilities[0].argmax())
    return (f"why {CLASSES[mood]} ({probabilities[0, mood]:.2f}, against {probabilities[1, mood]:.2f} for a track with "
            "the training data's mean features), the features' contributions:\n  "
            + ", ".join(explanation(features, values, mean, contributions[:, mood])))


def score_track(track_id: str, features_source: str, policy: RetryPolicy, model_version: ModelVersion,
                explained: bool = False) -> str:
    track = warehouse_track(track_id) or spotify_track(track_id, features_source, policy)
    lines = format_prediction(track, predict(track, model_version), model_version.version)
    return f"{lines}\n{explain(track, model_version)}" if explained else lines

