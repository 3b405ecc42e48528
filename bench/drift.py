"""What measuring drift (score.drift) adds to a scoring run: the one DuckDB aggregate over the catalog.

`drift_seconds` is the best of REPEATS runs of it over the bench's track_features, against the current model's
training profile, with scoring's connection settings; `drift_share_of_scoring` divides it by the scoring run's
`seconds` (target: at most DRIFT_TARGET). A scoring run measures drift once, after its predictions are written.
"""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

from moodcast import warehouse
from moodcast.model import registry
from score.drift import measure

REPEATS = 3
DRIFT_TARGET = 0.10  # of the scoring run's seconds


def drift_cost(scoring_seconds: float) -> dict:
    # In a new process, as bench.reference does: what DuckDB holds here would count in later scoring runs' peak RSS.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        timings = pool.submit(drift_timings).result()
    return {"drift_seconds": round(min(timings), 3),
            "drift_share_of_scoring": round(min(timings) / scoring_seconds, 3),
            "drift_target_met": min(timings) / scoring_seconds <= DRIFT_TARGET}


def drift_timings() -> list[float]:
    profile = registry.current().metadata()["data"]["profile"]
    timings = []
    with warehouse.connect(read_only=True) as connection:
        for _ in range(REPEATS):
            started = time.monotonic()
            measure(connection, "track_features", profile)
            timings.append(time.monotonic() - started)
    return timings
