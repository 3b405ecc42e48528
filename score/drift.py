"""Drift: how the scored catalog differs from the data the model was trained on, recorded per scoring run.

- `feature_drift`: per run × feature, the population stability index (PSI) of the catalog against the
  training data's deciles (the version's profile: moodcast.model.profile), both means, and the share of
  the catalog outside the training range;
- `class_mix`: per run × mood, the share of tracks and the mean confidence, next to the training mix.

PSI = Σ over bins (catalog share − training share) × ln(catalog share / training share). The usual reading,
used here: below 0.1 the catalog looks like the training data, 0.1–0.25 a moderate shift, from 0.25 a
significant one: the run then warns, one line per such feature, since the model's moods are less
reliable on tracks unlike those it learned from.

The catalog is read by one DuckDB aggregate: per feature and decile edge the tracks below it, the mean and
the tracks outside the training range. Above SAMPLE_TRACKS tracks it reads a random sample of about that
many (DuckDB's system sampling: whole vectors of 2,048 rows, so the scan skips the others) and every figure
is an estimate from it: reading all of a 10 M-track catalog cost as much as scoring it (docs/report.md).
"""

import logging
import math
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from moodcast.contract import CLASSES, FEATURE_RANGES
from moodcast.model.registry import ModelVersion
from moodcast.warehouse import table_names

log = logging.getLogger("score")

PSI_MODERATE = 0.1  # from here, a moderate shift
PSI_SIGNIFICANT = 0.25  # from here, a significant shift: the run warns
SAMPLE_TRACKS = 1_000_000  # catalogs larger than this are measured on a random sample of about this many tracks
SHARE_FLOOR = 1e-4  # an empty bin's share, so that its logarithm stays finite (the usual PSI convention)
# How a catalog whose values are higher (lower) than the training data's is said, per feature.
COMPARATIVES = {"length": ("shorter", "longer"), "tempo": ("slower", "faster"), "loudness": ("quieter", "louder")}

FEATURE_DRIFT_DDL = """
create table if not exists feature_drift (
    run_id integer, model_version varchar, feature varchar, psi double, level varchar,
    training_mean double, catalog_mean double, outside_training_range double, tracks bigint, tracks_measured bigint,
    training_shares double[], catalog_shares double[], bin_edges double[],
    primary key (run_id, feature)
)
"""
CLASS_MIX_DDL = """
create table if not exists class_mix (
    run_id integer, model_version varchar, mood varchar, tracks bigint, share double, mean_confidence double,
    training_share double,
    primary key (run_id, mood)
)
"""


@dataclass(frozen=True)
class Drift:
    feature: str
    psi: float
    training_mean: float
    catalog_mean: float
    outside_training_range: float  # share of the catalog's tracks below the training minimum or above its maximum
    tracks: int  # in the catalog
    tracks_measured: int  # all of them, or a random sample of about SAMPLE_TRACKS
    training_shares: list[float]
    catalog_shares: list[float]
    bin_edges: list[float]

    @property
    def level(self) -> str:
        return ("significant" if self.psi >= PSI_SIGNIFICANT else "moderate" if self.psi >= PSI_MODERATE
                else "none")

    def warning(self, version: str) -> str:
        higher = self.catalog_mean > self.training_mean
        if self.feature in COMPARATIVES:
            shift = (f"the catalog's tracks are {COMPARATIVES[self.feature][higher]} than those model {version} "
                     "learned from")
        else:
            shift = (f"the catalog's {self.feature} is {'higher' if higher else 'lower'} than in the tracks model "
                     f"{version} learned from")
        outside = f", {self.outside_training_range:.1%} outside its range" if self.outside_training_range else ""
        return (f"{self.feature} has drifted (PSI {self.psi:.2f}, significant from {PSI_SIGNIFICANT}): {shift} (mean "
                f"{self.catalog_mean:.3g} against {self.training_mean:.3g}{outside}), so their moods are less reliable")


def psi(catalog: list[float], training: list[float]) -> float:
    return sum((c - t) * math.log(c / t)
               for c, t in zip((max(c, SHARE_FLOOR) for c in catalog), (max(t, SHARE_FLOOR) for t in training),
                               strict=True))


def drift_query(relation: str, profile: dict[str, dict], sample_percent: float | None = None) -> str:
    """One row: the tracks, then per feature its mean, the tracks outside the training range and the tracks below
    each decile edge. Tracks outside the contract's ranges are not scored (score.plan), so not counted.

    Sums of 0/1, not count(*) filter (…): DuckDB evaluates each filter apart, twice the time."""
    columns = ["count(*)"]
    for feature, described in profile.items():
        value = f"{feature}::float"  # as the model and the profile saw it: a training track falls in its own bin
        columns += [f"avg({value})",
                    f"sum(({value} < {described['min']!r} or {value} > {described['max']!r})::int)",
                    *(f"sum(({value} < {edge!r})::int)" for edge in described["edges"])]
    in_range = " and ".join(f"{feature} between {FEATURE_RANGES[feature].low} and {FEATURE_RANGES[feature].high}"
                            for feature in profile if feature in FEATURE_RANGES)
    sample = f" tablesample {sample_percent:.6f}% (system)" if sample_percent else ""
    return f"select {', '.join(columns)} from {relation}{sample} where {in_range or 'true'}"


def measure(connection: duckdb.DuckDBPyConnection, relation: str, profile: dict[str, dict]) -> list[Drift]:
    (tracks,), = connection.execute(f"select count(*) from {relation}").fetchall()
    sample_percent = 100 * SAMPLE_TRACKS / tracks if tracks > SAMPLE_TRACKS else None
    (row,) = connection.execute(drift_query(relation, profile, sample_percent)).fetchall()
    measured, values, drifts = row[0], list(row[1:]), []
    for feature, described in profile.items():
        mean, outside, *below = values[:2 + len(described["edges"])]
        values = values[2 + len(described["edges"]):]
        counts = [b - a for a, b in zip([0, *below], [*below, measured], strict=True)]
        shares = [count / measured for count in counts] if measured else [0.0] * len(counts)
        drifts.append(Drift(feature, psi(shares, described["shares"]), described["mean"], mean,
                            outside / measured if measured else 0.0, tracks, measured, described["shares"], shares,
                            described["edges"]))
    return drifts


def record_drift(connection: duckdb.DuckDBPyConnection, run_id: int, model_version: ModelVersion, relation: str,
                 mood_counts: list[tuple[str, int, float, float]]) -> list[Drift]:
    """Measure the catalog against the version's training data and write both tables for the run; the drifts, or
    none for a version trained before moodcast kept profiles."""
    data = model_version.metadata().get("data", {})
    profile = data.get("profile")
    if profile is None:
        log.warning("model %s has no profile of its training data (trained by an earlier moodcast): drift is not "
                    "measured; retrain (`make train`) to measure it", model_version.version)
        return []
    drifts = measure(connection, relation, profile)
    training = data["class_counts"]
    connection.begin()
    connection.execute(FEATURE_DRIFT_DDL)
    connection.execute(CLASS_MIX_DDL)
    for table in ("feature_drift", "class_mix"):
        connection.execute(f"delete from {table} where run_id = ?", [run_id])
    connection.from_arrow(pa.Table.from_pylist([
        {"run_id": run_id, "model_version": model_version.version, "feature": d.feature, "psi": d.psi,
         "level": d.level, "training_mean": d.training_mean, "catalog_mean": d.catalog_mean,
         "outside_training_range": d.outside_training_range, "tracks": d.tracks, "tracks_measured": d.tracks_measured,
         "training_shares": d.training_shares, "catalog_shares": d.catalog_shares, "bin_edges": d.bin_edges}
        for d in drifts
    ])).insert_into("feature_drift")
    counted = {mood: (tracks, share, confidence) for mood, tracks, share, confidence in mood_counts}
    connection.from_arrow(pa.Table.from_pylist([
        {"run_id": run_id, "model_version": model_version.version, "mood": mood,
         "tracks": counted.get(mood, (0, 0.0, None))[0], "share": counted.get(mood, (0, 0.0, None))[1],
         "mean_confidence": counted.get(mood, (0, 0.0, None))[2],
         "training_share": training.get(mood, 0) / sum(training.values())}
        for mood in CLASSES
    ])).insert_into("class_mix")
    connection.commit()
    return drifts


def recorded_mood_counts(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, int, float, float]]:
    """The mood counts (as score.store.mood_counts gives them) recorded in class_mix with the last scoring run, which
    are the predictions' while no run has changed them since; none if that run recorded none."""
    if not {"class_mix", "scoring_runs"} <= table_names(connection):
        return []
    return connection.execute(
        "select mood, tracks, share, mean_confidence from class_mix "
        "where run_id = (select max(run_id) from scoring_runs) and tracks > 0 order by mood"
    ).fetchall()
