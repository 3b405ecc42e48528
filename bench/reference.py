"""The bench's reference figures for a model version: how scoring's predictions agree with Keras's
`model.predict`, and how fast `model.predict` itself streams the catalog (the naive way).

Run in a process of their own (bench.__main__.reference): they load TensorFlow.
"""

import time
from datetime import UTC, datetime

import numpy as np

from moodcast.contract import CLASSES, FEATURES, PROBABILITY_COLUMNS

AGREEMENT_SAMPLE = 200_000
KERAS_ROWS = 1_000_000  # model.predict does ~0.1 M rows/s: a million rows measures it well enough
# Two moods whose probabilities are this close are a tie at float32 precision (the probabilities' own target):
# either is model.predict's mood. One bench run had one track in 200,000 whose mood was not model.predict's while
# every probability was within 9.2e-7 of it: such a tie, rounded apart.
FLOAT32_TIE = 1e-5


def step(name: str) -> None:
    print(f"{datetime.now(UTC):%H:%M:%S} {name}", flush=True)


def agreement(version: str, sample_rows: int) -> dict:
    """The predictions, moods as analysts read them, against model.predict on a random sample of tracks; a mood
    tied with model.predict's at float32 precision (FLOAT32_TIE) agrees, and is counted in argmax_ties."""
    from moodcast import warehouse
    from moodcast.model import registry

    with warehouse.connect(read_only=True) as connection:
        sample = connection.execute(
            f"select * from (select {', '.join(FEATURES)}, mood, {', '.join(PROBABILITY_COLUMNS)} from predictions "
            f"join track_features using (track_id)) using sample reservoir({sample_rows} rows) repeatable (1)"
        ).fetchnumpy()
    model = registry.get(version).load()
    inputs = np.column_stack([sample[f] for f in FEATURES]).astype(np.float32)
    expected = model.predict(inputs, batch_size=10_000, verbose=0)
    scored = np.column_stack([sample[column] for column in PROBABILITY_COLUMNS])
    chosen = np.array([CLASSES.index(mood) for mood in sample["mood"]])
    same = chosen == expected.argmax(axis=1)
    tied = ~same & (expected.max(axis=1) - expected[np.arange(len(chosen)), chosen] <= FLOAT32_TIE)
    return {
        "agreement_sample_rows": len(inputs),
        "argmax_agreement": float((same | tied).mean()),
        "argmax_ties": int(tied.sum()),  # tracks whose mood differs from model.predict's by a float32 tie only
        "max_abs_prob_diff": float(np.abs(expected - scored).max()),
    }


def keras_rows_per_s(version: str, rows: int) -> dict:
    """model.predict on the catalog's Arrow batches, as a script would do it: the naive reference."""
    from moodcast import warehouse
    from moodcast.model import registry

    model = registry.get(version).load()
    done, started = 0, time.monotonic()
    with warehouse.connect(read_only=True) as connection:
        reader = connection.sql(f"select {', '.join(FEATURES)} from track_features limit {rows}")
        for batch in reader.to_arrow_reader(100_000):
            inputs = np.column_stack([batch.column(f).to_numpy() for f in FEATURES]).astype(np.float32)
            model.predict(inputs, verbose=0)
            done += batch.num_rows
    return {"keras_rows": done, "keras_rows_per_s": round(done / (time.monotonic() - started))}


def measure_reference(version: str, rows: int) -> dict:
    step("agreement with model.predict")
    figures = agreement(version, min(AGREEMENT_SAMPLE, rows))
    step("Keras model.predict, the naive reference")
    return figures | keras_rows_per_s(version, min(KERAS_ROWS, rows))
