"""The whole pipeline as a user runs it: ingest → dbt build → train → score, each a command.

The first three are the session's shared warehouse (conftest's `trained_home`, built by those
commands once); this test runs the last one on its own copy.
"""

from moodcast.contract import CLASSES
from tests.conftest import SEED_TRACKS, query, run_ok


def test_ingest_build_train_score_predicts_every_track(trained):
    scored = run_ok("score", home=trained)

    counts = dict(query("select mood, count(*) from predictions group by mood"))
    [(catalog,)] = query("select count(*) from track_features")
    assert set(counts) <= set(CLASSES)
    assert sum(counts.values()) == catalog == SEED_TRACKS
    assert f"scored {SEED_TRACKS} tracks" in scored.stdout
