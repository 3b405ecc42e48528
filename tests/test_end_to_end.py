"""The whole pipeline as a user runs it: ingest → dbt build → train → score, each a command."""

import duckdb

from tests.conftest import QUICK_TRAINING, SEED_CSV, run_ok


def test_ingest_build_train_score_predicts_every_track(home):
    run_ok("ingest", "files", str(SEED_CSV), home=home)
    run_ok("moodcast.build", home=home)
    run_ok("train", *QUICK_TRAINING, home=home)
    scored = run_ok("score", home=home)

    with duckdb.connect(str(home / "moods.duckdb"), read_only=True) as connection:
        counts = dict(connection.execute("select mood, count(*) from predictions group by mood").fetchall())
        catalog = connection.execute("select count(*) from track_features").fetchall()[0][0]
    assert set(counts) <= {"Calm", "Energetic", "Happy", "Sad"}
    assert sum(counts.values()) == catalog == 686
    assert "scored 686 tracks" in scored.stdout
