"""`python -m ingest files`: what lands, what is rejected and why, and that nothing is lost."""

import csv
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from ingest.files import ingest_file
from ingest.unchanged import QUIET_SECONDS
from moodcast import settings
from moodcast.errors import BadInputError
from moodcast.landing import FILE_REJECTS_SCHEMA, FILE_TRACKS_SCHEMA, landed_source_file, source_dir
from tests.conftest import SEED_CSV, SEED_TRACKS, run_command

NOW = datetime(2026, 11, 24, tzinfo=UTC)
FEATURES_ROW = {
    "length": "200000", "danceability": "0.5", "acousticness": "0.5", "energy": "0.5",
    "instrumentalness": "0.1", "liveness": "0.1", "valence": "0.5", "loudness": "-7.5",
    "speechiness": "0.05", "tempo": "120",
}


def track_id(number: int) -> str:
    return f"{number:022d}"


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def landed_rows(source: str) -> pl.DataFrame:
    return pl.read_parquet(source_dir(source) / "*.parquet")


def test_the_seed_file_lands_whole_with_the_explicit_schema_and_lineage():
    result = ingest_file(SEED_CSV, NOW)

    landed = pq.read_table(result.landed)
    assert (result.accepted, result.rejected) == (SEED_TRACKS, 0)
    assert landed.schema.remove_metadata() == FILE_TRACKS_SCHEMA
    assert landed.column("source_row").to_pylist() == list(range(1, 687))
    assert set(landed.column("source_file").to_pylist()) == {str(SEED_CSV)}


def test_reingesting_the_same_file_changes_nothing():
    first = ingest_file(SEED_CSV, NOW)
    before = sorted(p.name for p in source_dir("files").iterdir())

    second = ingest_file(SEED_CSV, datetime.now(UTC))

    assert second.unchanged and second.landed == first.landed
    assert sorted(p.name for p in source_dir("files").iterdir()) == before
    assert landed_rows("files").height == SEED_TRACKS


def test_common_spellings_of_id_and_duration_are_normalised(tmp_path):
    rows = [
        {"uri": f"spotify:track:{track_id(1)}", "duration_ms": "1000", **FEATURES_ROW},
        {"uri": f"https://open.spotify.com/intl-fr/track/{track_id(2)}?si=x", "duration_ms": "2000.4", **FEATURES_ROW},
    ]
    for row in rows:
        del row["length"]
    source = write_csv(tmp_path / "catalog.csv", rows)

    ingest_file(source, NOW)

    landed = landed_rows("files").sort("source_row")
    assert landed["track_id"].to_list() == [track_id(1), track_id(2)]
    assert landed["length"].to_list() == [1000, 2000]
    assert landed["mood"].to_list() == [None, None]  # no mood column: a catalog to score


def test_parquet_files_are_ingested_like_csv(tmp_path):
    source = tmp_path / "seed.parquet"
    pl.read_csv(SEED_CSV).write_parquet(source)

    result = ingest_file(source, NOW)

    assert (result.accepted, result.rejected) == (SEED_TRACKS, 0)
    assert landed_rows("files")["mood"].value_counts().height == 4


def test_unusable_rows_are_rejected_with_a_reason_and_nothing_is_lost(tmp_path):
    good = {"id": track_id(1), **FEATURES_ROW, "mood": "happy"}
    rows = [
        good,
        {**good, "id": "not-a-track"},
        {**good, "id": track_id(3), "energy": "loud"},
        {**good, "id": track_id(4), "tempo": ""},
        {**good, "id": track_id(5), "valence": "1.7"},
        {**good, "id": track_id(6), "mood": "Grumpy"},
        {**good, "id": track_id(7), "tempo": "0"},  # Spotify's "no tempo detected": valid
    ]
    source = write_csv(tmp_path / "labelled.csv", rows)

    result = ingest_file(source, NOW)

    rejects = pq.read_table(source_dir("file_rejects") / result.landed.name)
    assert rejects.schema.remove_metadata() == FILE_REJECTS_SCHEMA
    reasons = dict(zip(rejects.column("source_row").to_pylist(), rejects.column("reason").to_pylist(), strict=True))
    assert reasons == {
        2: "track id is not a Spotify track ID, URI or URL: 'not-a-track'",
        3: "energy is not a number: 'loud'",
        4: "tempo is missing",
        5: "valence is out of range (0 ≤ value ≤ 1): 1.7",
        6: "mood is not one of Calm, Energetic, Happy, Sad: 'Grumpy'",
    }
    assert result.accepted + result.rejected == len(rows)
    assert landed_rows("files")["mood"].to_list() == ["Happy", "Happy"]
    assert json.loads(rejects.column("raw_record")[0].as_py())["id"] == "not-a-track"


def test_a_row_with_several_problems_lists_them_all(tmp_path):
    source = write_csv(tmp_path / "bad.csv", [{"id": "x", **FEATURES_ROW, "danceability": "-1", "mood": "?"}])

    result = ingest_file(source, NOW)

    reason = pq.read_table(source_dir("file_rejects") / result.landed.name).column("reason")[0].as_py()
    assert reason.split("; ") == [
        "track id is not a Spotify track ID, URI or URL: 'x'",
        "danceability is out of range (0 ≤ value ≤ 1): -1",
        "mood is not one of Calm, Energetic, Happy, Sad: '?'",
    ]


def test_a_new_version_of_a_file_replaces_the_old_one(tmp_path):
    source = tmp_path / "catalog.csv"
    write_csv(source, [{"id": track_id(1), **FEATURES_ROW}, {"id": track_id(2), **FEATURES_ROW}])
    ingest_file(source, NOW)

    write_csv(source, [{"id": track_id(1), **FEATURES_ROW, "energy": "0.9"}])
    ingest_file(source, NOW)

    landed = landed_rows("files")
    assert landed["track_id"].to_list() == [track_id(1)]
    assert landed["energy"].to_list() == [0.9]
    assert len(list(source_dir("file_rejects").glob("catalog-*.parquet"))) == 1


def test_a_run_over_every_past_drop_reads_no_other_drops_lineage(tmp_path):
    drops = [write_csv(tmp_path / f"drop{number}.csv", [{"id": track_id(number), **FEATURES_ROW}])
             for number in range(6)]
    landed_source_file.cache_clear()

    for _ in range(2):  # as cron's glob of every drop does, night after night: the second run lands nothing
        results = [ingest_file(drop, NOW) for drop in drops]

    assert all(result.unchanged for result in results)
    assert landed_source_file.cache_info().misses == 0  # only files named as a drop's own could be its versions


def bytes_read() -> int:
    """What this process has read so far, from files or the page cache (Linux's /proc/self/io)."""
    return int(re.search(r"^rchar: (\d+)$", Path("/proc/self/io").read_text(), re.MULTILINE).group(1))


def delivered_drop(path: Path, energy: str = "0.5") -> Path:
    """A drop of 20,000 tracks (about 3 MB), left alone since it was written, as cron finds a delivered drop."""
    write_csv(path, [{"id": track_id(number), **FEATURES_ROW, "energy": energy} for number in range(20_000)])
    time.sleep(QUIET_SECONDS + 0.1)
    return path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_file_landed_before_and_unchanged_since_is_not_read_again(tmp_path):
    drop = delivered_drop(tmp_path / "drop.csv")
    first = ingest_file(drop, NOW)

    before = bytes_read()
    again = ingest_file(drop, NOW)

    assert again.unchanged and again.landed == first.landed and again.accepted == 20_000
    assert bytes_read() - before < drop.stat().st_size / 10


def test_past_drops_left_alone_take_one_line_of_the_nightly_log(tmp_path, home):
    drops = [write_csv(tmp_path / f"drop{number}.csv",
                       [{"id": track_id(number * 10 + row), **FEATURES_ROW} for row in range(number + 1)])
             for number in range(3)]
    time.sleep(QUIET_SECONDS + 0.1)  # delivered: left alone since they were written
    run_command("ingest", "files", *map(str, drops[:2]), home=home)

    result = run_command("ingest", "files", *map(str, drops), home=home)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{drops[2]}: 3 rows: 3 accepted, 0 rejected → landing/files/{landed_name(home, drops[2])}",
        "2 files unchanged since they were landed (3 rows accepted, 0 rejected, in all); nothing to do",
    ]
    alone = run_command("ingest", "files", drops[1].name, home=home, cwd=tmp_path)  # named as the user named it
    assert alone.stdout == (f"{drops[1].name}: unchanged since it was landed as landing/files/"
                            f"{landed_name(home, drops[1])} (2 accepted, 0 rejected); nothing to do\n")


def landed_name(home: Path, source: Path) -> str:
    """The name of the file source landed as, found by its lineage."""
    landed, = [path.name for path in (home / "landing" / "files").glob(f"{source.stem}-*.parquet")
               if landed_source_file(path) == str(source)]
    return landed


def test_a_file_rewritten_with_its_size_and_modification_time_kept_lands_again(tmp_path):
    drop = delivered_drop(tmp_path / "drop.csv")
    ingest_file(drop, NOW)
    status = drop.stat()

    write_csv(drop, [{"id": track_id(number), **FEATURES_ROW, "energy": "0.9"} for number in range(20_000)])
    os.utime(drop, ns=(status.st_atime_ns, status.st_mtime_ns))  # as `cp -p` or `touch -r` would
    assert (drop.stat().st_size, drop.stat().st_mtime_ns) == (status.st_size, status.st_mtime_ns)
    result = ingest_file(drop, NOW)

    assert not result.unchanged
    assert landed_rows("files")["energy"].unique().to_list() == [0.9]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_file_landed_right_after_it_changed_is_read_again_next_time(tmp_path):
    drop = write_csv(tmp_path / "drop.csv", [{"id": track_id(number), **FEATURES_ROW} for number in range(20_000)])
    ingest_file(drop, NOW)  # within QUIET_SECONDS of its last write: a write just after could keep its times

    before = bytes_read()
    again = ingest_file(drop, NOW)

    assert again.unchanged
    assert bytes_read() - before >= drop.stat().st_size  # hashed whole to be sure


def test_a_file_missing_feature_columns_is_refused_by_name(tmp_path):
    source = write_csv(tmp_path / "partial.csv", [{"id": track_id(1), "energy": "0.5", "tempo": "120"}])

    with pytest.raises(BadInputError) as raised:
        ingest_file(source, NOW)

    assert str(raised.value).startswith(
        f"{source}: missing required column(s): length (as length or duration_ms), danceability, "
        "acousticness, instrumentalness, liveness, valence, loudness, speechiness. "
    )
    assert not list(source_dir("files").glob("partial-*"))


def test_the_command_lands_good_files_and_fails_for_unusable_ones(tmp_path, home):
    binary = tmp_path / "cover.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    prose = tmp_path / "notes.csv"
    prose.write_text("Dear diary,\ntoday I listened to music.\n")

    result = run_command("ingest", "files", str(SEED_CSV), str(binary), str(prose), home=home)

    assert result.returncode == 2
    assert f"{SEED_CSV}: {SEED_TRACKS} rows: {SEED_TRACKS} accepted, 0 rejected" in result.stdout
    assert f"{binary}: could not be read as a CSV table" in result.stderr
    spellings = "track_id, id, uri, track_uri, spotify_id, url or track_url"
    assert f"{prose}: missing required column(s): track_id (as {spellings})" in result.stderr
    assert "2 of 3 file(s) could not be ingested" in result.stderr
    assert pl.read_parquet(home / "landing" / "files" / "*.parquet").height == SEED_TRACKS


def test_a_missing_file_is_named(tmp_path, home):
    result = run_command("ingest", "files", str(tmp_path / "nowhere.csv"), home=home)

    assert result.returncode == 2
    assert f"{tmp_path / 'nowhere.csv'}: no such file" in result.stderr


@pytest.mark.parametrize(("column", "value", "reason"), [
    ("tempo", "1e39", "tempo is out of range (0 ≤ value ≤ 300): 1e39"),
    ("loudness", "-1e308", "loudness is out of range (-70 ≤ value ≤ 5): -1e308"),
    ("length", "1e18", "length is out of range (1 ≤ value ≤ 21,600,000): 1e18"),
    ("length", "0.4", "length is out of range (1 ≤ value ≤ 21,600,000): 0.4"),  # lands as 0
    ("length", "1e30", "length is out of range (1 ≤ value ≤ 21,600,000): 1e30"),  # beyond any integer
    ("length", "9223372036854775808", "length is out of range (1 ≤ value ≤ 21,600,000): 9223372036854775808"),
    ("tempo", "inf", "tempo is out of range (0 ≤ value ≤ 300): inf"),
])
def test_a_value_beyond_its_documented_bounds_is_rejected_and_the_other_rows_land(tmp_path, column, value, reason):
    good = {"id": track_id(1), **FEATURES_ROW}
    source = write_csv(tmp_path / "hostile.csv", [good, {**good, "id": track_id(2), column: value}])

    result = ingest_file(source, NOW)

    rejects = pq.read_table(source_dir("file_rejects") / result.landed.name)
    assert rejects.column("reason").to_pylist() == [reason]
    assert landed_rows("files")["track_id"].to_list() == [track_id(1)]


def test_a_parquet_length_beyond_int64_rejects_its_row_only(tmp_path):
    source = tmp_path / "huge.parquet"
    numbers = {feature: [float(value)] * 2 for feature, value in FEATURES_ROW.items() if feature != "length"}
    pl.DataFrame({"id": [track_id(1), track_id(2)], "length": [200_000, 2**64 - 1], **numbers},
                 schema_overrides={"length": pl.UInt64}).write_parquet(source)

    result = ingest_file(source, NOW)

    assert (result.accepted, result.rejected) == (1, 1)
    assert landed_rows("files")["length"].to_list() == [200_000]


def test_the_same_file_in_two_folders_has_a_lineage_each(tmp_path):
    first, second = tmp_path / "a" / "tracks.csv", tmp_path / "b" / "tracks.csv"
    for path in (first, second):
        path.parent.mkdir()
        write_csv(path, [{"id": track_id(1), **FEATURES_ROW}])
    ingest_file(first, NOW)

    assert not ingest_file(second, NOW).unchanged  # never landed from b/: it lands now
    write_csv(first, [{"id": track_id(2), **FEATURES_ROW}])
    ingest_file(first, NOW)

    assert sorted(landed_rows("files")["source_file"].to_list()) == [str(first), str(second)]


def test_a_rerun_finishes_a_replacement_a_crash_interrupted(tmp_path):
    source = tmp_path / "catalog.csv"
    write_csv(source, [{"id": track_id(1), **FEATURES_ROW}])
    old = ingest_file(source, NOW).landed
    kept = {folder: (source_dir(folder) / old.name).read_bytes() for folder in ("files", "file_rejects")}
    write_csv(source, [{"id": track_id(1), **FEATURES_ROW, "energy": "0.9"}])
    ingest_file(source, NOW)
    for folder, content in kept.items():  # as if the run had died before removing the old version
        (source_dir(folder) / old.name).write_bytes(content)

    assert ingest_file(source, NOW).unchanged

    assert landed_rows("files")["energy"].to_list() == [0.9]
    assert not (source_dir("file_rejects") / old.name).exists()


def test_a_track_in_two_files_of_one_command_takes_the_later_arguments_features(tmp_path, home):
    early, late = tmp_path / "z-early.csv", tmp_path / "a-late.csv"  # the later argument sorts first
    write_csv(early, [{"id": track_id(1), **FEATURES_ROW, "energy": "0.1"}])
    write_csv(late, [{"id": track_id(1), **FEATURES_ROW, "energy": "0.9"}])

    run_command("ingest", "files", str(early), str(late), home=home)
    assert run_command("moodcast.build", home=home).returncode == 0

    with duckdb.connect(str(home / "moods.duckdb"), read_only=True) as connection:
        assert connection.execute("select energy from track_features").fetchall() == [(0.9,)]


def test_two_ingests_of_one_big_file_at_once_both_finish(tmp_path, home):
    big = tmp_path / "big.csv"
    seed = pl.read_csv(SEED_CSV)
    pl.concat([seed] * 600).with_columns(  # 411,600 rows: long enough to overlap
        pl.format("{}", pl.int_range(pl.len()).cast(pl.String).str.zfill(22)).alias("id")
    ).write_csv(big)
    environment = os.environ | {settings.HOME_VARIABLE: str(home)}
    command = [sys.executable, "-m", "ingest", "files", str(big)]
    first = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list((home / "landing" / "files").glob(".*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.02)  # until the first is writing
    second = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    first_out, first_err = first.communicate(timeout=300)

    assert (first.returncode, second.returncode) == (0, 0), first_err + second.stderr
    assert "unchanged since it was landed" in second.stdout
    assert pl.read_parquet(home / "landing" / "files" / "*.parquet").height == 411_600


HEADER = "id,length,danceability,acousticness,energy,instrumentalness,liveness,valence,loudness,speechiness,tempo"


def row(number: int) -> str:
    return f"{track_id(number)},200000,0.5,0.5,0.5,0.1,0.1,0.5,-7.5,0.05,120"


def test_a_row_with_too_many_fields_is_rejected_with_its_line_and_the_others_land(tmp_path):
    source = tmp_path / "ragged.csv"
    source.write_text("\n".join([HEADER, row(1), f'"{track_id(9)}","a\nb",x', f"{row(2)},extra", row(3)]) + "\n")

    result = ingest_file(source, NOW)

    rejects = pq.read_table(source_dir("file_rejects") / result.landed.name).to_pylist()
    assert [(r["source_row"], r["reason"]) for r in rejects] == [
        (2, "length is not a number: 'a\nb'; danceability is not a number: 'x'; " + "; ".join(
            f"{feature} is missing" for feature in list(FEATURES_ROW)[2:])),
        (3, "line 5 has 12 fields, the header 11: a stray delimiter, or a value with a comma that needs quotes"),
    ]
    assert landed_rows("files")["track_id"].to_list() == [track_id(1), track_id(3)]


def test_a_quote_never_closed_is_refused_with_its_line(tmp_path):
    source = tmp_path / "quote.csv"
    source.write_text("\n".join([HEADER, row(1), row(2), f'"{row(3)}', row(4)]) + "\n")

    with pytest.raises(BadInputError) as raised:
        ingest_file(source, NOW)

    assert str(raised.value).startswith(f"{source}: could not be read as a CSV table: line 4 (data row 3): "
                                        "unexpected end of data (a quote opened there is never closed")


def test_blank_lines_are_no_rows(tmp_path):
    source = tmp_path / "blank.csv"
    source.write_text("\n".join([HEADER, row(1), "", row(2), ",,,,,,,,,,", ""]) + "\n")

    result = ingest_file(source, NOW)

    assert (result.accepted, result.rejected) == (2, 0)
    assert landed_rows("files")["source_row"].to_list() == [1, 3]


@pytest.mark.parametrize(("content", "complaint"), [
    (HEADER.replace(",", ";") + "\n", "the header was read as one column ('id;length;danceability;acousticness;"
     "energy;instrumentalness;'): is the file semicolon-separated?"),
    (HEADER.replace(",", "\t") + "\n", "is the file tab-separated?"),
    ((HEADER + "\n").encode("utf-16"), "the file is UTF-16 encoded; moodcast reads UTF-8 CSV"),
])
def test_a_file_in_another_dialect_says_which(tmp_path, content, complaint):
    source = tmp_path / "dialect.csv"
    source.write_bytes(content if isinstance(content, bytes) else content.encode())

    with pytest.raises(BadInputError, match="^" + str(source)) as raised:
        ingest_file(source, NOW)

    assert complaint in str(raised.value)


def test_a_directory_or_a_pipe_is_named_for_what_it_is(tmp_path):
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)

    with pytest.raises(BadInputError, match="is a directory; name the files in it"):
        ingest_file(tmp_path, NOW)
    with pytest.raises(BadInputError, match="not a regular file"):
        ingest_file(pipe, NOW)


def test_id_columns_that_differ_only_in_case_are_refused(tmp_path):
    source = tmp_path / "both.parquet"
    pl.DataFrame({"id": [track_id(1)], "ID": [track_id(2)], **{k: [v] for k, v in FEATURES_ROW.items()}}
                 ).write_parquet(source)

    with pytest.raises(BadInputError, match="columns 'id' and 'ID' differ only in case"):
        ingest_file(source, NOW)


def test_a_memory_limit_duckdb_cannot_read_exits_2(trained, monkeypatch):
    monkeypatch.setenv(settings.MEMORY_LIMIT_VARIABLE, "lots")

    result = run_command("score", home=trained)

    assert result.returncode == 2
    assert result.stderr.startswith("error: MOODCAST_DUCKDB_MEMORY_LIMIT='lots': Parser Error")


def test_a_comment_line_is_rejected_with_its_line_and_the_rows_land(tmp_path):
    source = tmp_path / "commented.csv"
    comment = "# " + ", ".join(f"note {number}" for number in range(12))  # more commas than the header has
    source.write_text("\n".join([HEADER, comment, row(1), row(2)]) + "\n")

    result = ingest_file(source, NOW)

    assert result.reject_examples == ("row 1: line 2 has 12 fields, the header 11: a stray delimiter, or a value "
                                      "with a comma that needs quotes",)
    assert landed_rows("files")["track_id"].to_list() == [track_id(1), track_id(2)]
