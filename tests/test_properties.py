"""Property-based tests: hostile files, generated, never lose a row or break a later stage.

Hypothesis writes CSV and Parquet files that mix good rows with garbage in every column (empty,
NaN, ±inf, 1e39, 2^63, words, decimal commas, full-width digits, bad ids, unknown moods, quotes and
newlines inside values). Whatever it writes, every row read is either landed or rejected with a
reason, each exactly once, and what lands is within the contract; and the whole pipeline holds:
the build passes, scoring exits 0 and predicts every track of track_features.
"""

import csv
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import duckdb
import polars as pl
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.files import ingest_file
from moodcast import settings as moodcast_settings
from moodcast.build import dbt_build
from moodcast.contract import CLASSES, FEATURE_RANGES, FEATURES
from moodcast.landing import source_dir
from tests.conftest import run_command

NOW = datetime(2026, 11, 24, tzinfo=UTC)
GOOD_IDS = [f"{number:022d}" for number in range(1, 9)]  # few ids, so tracks repeat within and across files
GARBAGE = ["", " ", "NaN", "nan", "inf", "-inf", "1e39", "-1e308", "9223372036854775808", "18446744073709551616",
           "abc", "0,5", "０．５", "１２０", "1e-400", "-0", "0x10", '5"', "\n"]
GOOD_TEXT = {
    feature: st.floats(valid.low, valid.high, allow_nan=False).map(
        lambda value, feature=feature: str(round(value)) if feature == "length" else repr(value))
    for feature, valid in FEATURE_RANGES.items()
}
TRACK_IDS = st.one_of(st.sampled_from(GOOD_IDS), st.sampled_from(GOOD_IDS).map("spotify:track:{}".format),
                      st.sampled_from(["", "abc", "spotify:track:short", "０" * 22, GOOD_IDS[0] + "x", "https://x/"]))
MOODS = st.sampled_from(["", *CLASSES, "happy", "SAD", "Grumpy", "ＨＡＰＰＹ", "1"])
NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e39, -1e308, 0.4, 21_600_001.0]))
HYPOTHESIS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                            HealthCheck.too_slow])


@st.composite
def text_rows(draw, max_rows: int) -> list[dict[str, str]]:
    """Rows as text: each value good for its column or garbage. A name keeps every row non-blank."""
    rows = []
    for number in range(draw(st.integers(1, max_rows))):
        row = {"id": draw(TRACK_IDS), "name": f"track {number}, \"live\""}
        for feature in FEATURES:
            row[feature] = draw(st.one_of(GOOD_TEXT[feature], GOOD_TEXT[feature], st.sampled_from(GARBAGE)))
        row["mood"] = draw(MOODS)
        rows.append(row)
    return rows


@st.composite
def number_rows(draw, max_rows: int) -> pl.DataFrame:
    """A Parquet-shaped table: features stored as numbers (length as a 64-bit integer), good or hostile."""
    rows = draw(st.integers(1, max_rows))
    columns = {"id": draw(st.lists(TRACK_IDS, min_size=rows, max_size=rows))}
    for feature, valid in FEATURE_RANGES.items():
        good = st.floats(valid.low, valid.high, allow_nan=False)
        if feature == "length":
            values = st.one_of(good.map(round), st.integers(-(2**63), 2**63 - 1), st.none())
            columns[feature] = pl.Series(draw(st.lists(values, min_size=rows, max_size=rows)), dtype=pl.Int64)
        else:
            values = st.one_of(good, good, NUMBERS, st.none())
            columns[feature] = pl.Series(draw(st.lists(values, min_size=rows, max_size=rows)), dtype=pl.Float64)
    columns["mood"] = draw(st.lists(MOODS, min_size=rows, max_size=rows))
    return pl.DataFrame(columns)


def write_csv(path: Path, rows: list[dict[str, str]], quoting: int) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]), quoting=quoting)
        writer.writeheader()
        writer.writerows(rows)
    return path


@contextmanager
def fresh_home() -> Iterator[Path]:
    """A MOODCAST_HOME of its own for one generated example."""
    previous = os.environ[moodcast_settings.HOME_VARIABLE]
    with TemporaryDirectory() as directory:
        os.environ[moodcast_settings.HOME_VARIABLE] = str(Path(directory) / "home")
        try:
            yield Path(directory)
        finally:
            os.environ[moodcast_settings.HOME_VARIABLE] = previous


def assert_every_row_landed_or_rejected_once(landed_name: str, rows: int) -> None:
    tracks = pq.read_table(source_dir("files") / landed_name).to_pylist()
    rejects = pq.read_table(source_dir("file_rejects") / landed_name).to_pylist()
    assert sorted(row["source_row"] for row in tracks + rejects) == list(range(1, rows + 1))
    assert all(reject["reason"] for reject in rejects)
    for track in tracks:
        assert re.fullmatch(r"[0-9A-Za-z]{22}", track["track_id"])
        assert all(FEATURE_RANGES[feature].contains(track[feature]) for feature in FEATURES), track
        assert track["mood"] in (None, *CLASSES)


@HYPOTHESIS
@given(rows=text_rows(max_rows=12), quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
def test_every_csv_row_is_landed_or_rejected_with_a_reason(rows, quoting):
    with fresh_home() as directory:
        result = ingest_file(write_csv(directory / "hostile.csv", rows, quoting), NOW)

        assert result.accepted + result.rejected == len(rows)
        assert_every_row_landed_or_rejected_once(result.landed.name, len(rows))


@HYPOTHESIS
@given(table=number_rows(max_rows=12))
def test_every_parquet_row_is_landed_or_rejected_with_a_reason(table):
    with fresh_home() as directory:
        table.write_parquet(directory / "hostile.parquet")

        result = ingest_file(directory / "hostile.parquet", NOW)

        assert result.accepted + result.rejected == table.height
        assert_every_row_landed_or_rejected_once(result.landed.name, table.height)


@settings(HYPOTHESIS, max_examples=2)  # the first is always the simplest
@given(files=st.lists(st.tuples(text_rows(max_rows=8), number_rows(max_rows=8)), min_size=3, max_size=3))
def test_whatever_lands_builds_and_every_track_is_scored(trained_home, files):
    # Three generated CSV and Parquet pairs land in one warehouse: one build and one scoring run check them all.
    good = {"id": "0" * 22, "name": "good", **{feature: str(valid.low) for feature, valid in FEATURE_RANGES.items()},
            "mood": ""}  # so the catalog is never empty
    with fresh_home() as directory:
        home = directory / "home"
        shutil.copytree(trained_home / "models", home / "models")
        for number, (rows, table) in enumerate(files):
            ingest_file(write_csv(directory / f"hostile-{number}.csv", [good, *rows], csv.QUOTE_MINIMAL), NOW)
            table.write_parquet(directory / f"hostile-{number}.parquet")
            ingest_file(directory / f"hostile-{number}.parquet", NOW)

        assert dbt_build([]) == 0
        scored = run_command("score", home=home)

        assert scored.returncode == 0, scored.stderr
        with duckdb.connect(str(home / "moods.duckdb"), read_only=True) as connection:
            assert connection.execute("select count(*) from track_features anti join predictions using (track_id)"
                                      ).fetchall() == [(0,)]
