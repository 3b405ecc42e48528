"""Score a catalog incrementally: plan (score.plan) → compute (score.engines) → store (score.store).

A run scores only the tracks that need it and removes the predictions of tracks that left the
catalog. Everything is written in one transaction, so a reader, a crash or a `kill -9` sees the old
predictions or the new ones, never a mix; the next run picks up where the killed one would have.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

import duckdb

from moodcast.model.registry import ModelVersion
from moodcast.progress import NO_PROGRESS, Progress
from score.changes import CHANGED, NOTHING, changed_tracks, forget_scored_build, record_scored_build
from score.engines import engine_for
from score.plan import WAREHOUSE_CATALOG, Catalog, check_catalog, model_features, plan
from score.store import store

log = logging.getLogger("score")

NOTHING_COMPUTED = "no model loaded"  # the engine of a run that had nothing to compute


@dataclass(frozen=True)
class Outcome:
    scored: int
    skipped: int  # already predicted by this model version from the same features
    removed: int  # predictions of tracks no longer in the catalog
    engine: str  # the engine that computed, or NOTHING_COMPUTED
    seconds: float  # planning, computing and writing, commit included

    @property
    def rows_per_s(self) -> float:
        return self.scored / self.seconds if self.seconds > 0 else 0.0


def score_catalog(
    connection: duckdb.DuckDBPyConnection,
    model_version: ModelVersion,
    scored_at: datetime,
    catalog: Catalog = WAREHOUSE_CATALOG,
    *,
    full_refresh: bool = False,
    history: bool = False,
    engine: str = "auto",
    progress: Progress = NO_PROGRESS,
) -> Outcome:
    """Bring `predictions` up to date with the catalog and the model version; see the module's docstring."""
    features = model_features(model_version)
    if catalog is WAREHOUSE_CATALOG:
        check_catalog(connection, features)
    started = time.monotonic()
    connection.execute("set preserve_insertion_order = false")  # predictions have no order: DuckDB writes faster
    warehouse_catalog = catalog is WAREHOUSE_CATALOG
    changed = changed_tracks(connection, model_version.version) if warehouse_catalog and not full_refresh else None
    if changed == NOTHING:
        log.info("no build since the last run: track_features is as model %s scored it", model_version.version)
    elif changed == CHANGED:
        log.info("planning from the tracks the last build changed (int_changed_tracks), not the whole catalog")
    todo = plan(connection, catalog, features, model_version.version, full_refresh, changed)
    engine_name = NOTHING_COMPUTED
    if todo.scoring == 0 and todo.removed == 0:
        log.info("nothing to score: all %d tracks of %s already have predictions from model %s and their current "
                 "features", todo.in_catalog, catalog.name, model_version.version)
    else:
        loading = time.monotonic()
        scorer = engine_for(model_version, engine)  # the model, loaded only now that there is something to compute
        started += time.monotonic() - loading  # its loading is no part of the run's time, as when it came first
        engine_name = scorer.name
        log.info("scoring %d of %d tracks of %s (%d unchanged, skipped; %d gone from it, removed) with model %s, "
                 "%s", todo.scoring, todo.in_catalog, catalog.name, todo.skipped, todo.removed,
                 model_version.version, scorer.name)
        store(connection, todo, scorer, model_version.version, scored_at, catalog.name, history, progress)
    # After the commit: a run killed before this records nothing, and the next one plans more than it needs.
    if warehouse_catalog:
        record_scored_build(connection, model_version.version)
    elif todo.scoring or todo.removed:
        forget_scored_build(connection)
    return Outcome(todo.scoring, todo.skipped, todo.removed, engine_name, time.monotonic() - started)
