"""Files in another schema, mapped by a TOML file: moodify's `uri`, `duration (ms)` and label codes."""

from datetime import UTC, datetime

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from ingest.files import ingest_file
from ingest.mapping import read_mapping
from moodcast import settings
from moodcast.build import dbt_build
from moodcast.errors import BadInputError
from moodcast.landing import source_dir
from tests.conftest import SEED_CSV, run_command

NOW = datetime(2026, 11, 24, tzinfo=UTC)
DATA = settings.REPO_ROOT / "data"
MOODIFY_CSV = DATA / "moodify_1200.csv"
MOODIFY_MAPPING = DATA / "moodify.mapping.toml"
MOODIFY_CODES = {0: "Sad", 1: "Happy", 2: "Energetic", 3: "Calm"}


def moodify_labels() -> pl.DataFrame:
    """The oracle: moodify's labels decoded straight from the CSV, independently of ingest."""
    return pl.read_csv(MOODIFY_CSV).select(
        pl.col("uri").str.strip_prefix("spotify:track:").alias("track_id"),
        pl.col("labels").replace_strict(MOODIFY_CODES).alias("mood"),
    )


def test_moodify_lands_with_its_codes_decoded_and_columns_renamed():
    result = ingest_file(MOODIFY_CSV, NOW, read_mapping(MOODIFY_MAPPING))

    landed = pl.read_parquet(result.landed).sort("source_row")
    assert (result.accepted, result.rejected) == (1200, 0)
    assert landed.select("track_id", "mood").equals(moodify_labels())
    assert landed["length"].to_list() == pl.read_csv(MOODIFY_CSV)["duration (ms)"].to_list()


def test_labelled_sources_merge_agreeing_duplicates_once_and_list_conflicts():
    ingest_file(SEED_CSV, NOW)
    ingest_file(MOODIFY_CSV, NOW, read_mapping(MOODIFY_MAPPING))

    assert dbt_build([]) == 0

    labels = pl.concat([pl.read_csv(SEED_CSV).select(pl.col("id").alias("track_id"), "mood"), moodify_labels()])
    moods_per_track = labels.group_by("track_id").agg(pl.col("mood").n_unique().alias("moods"))
    with duckdb.connect(str(settings.database_path()), read_only=True) as connection:
        trained_on = connection.execute("select count(*) from training_examples").fetchall()[0][0]
        conflicts = {row[0] for row in connection.execute("select track_id from label_conflicts").fetchall()}
    assert trained_on == moods_per_track.filter(pl.col("moods") == 1).height
    assert conflicts == set(moods_per_track.filter(pl.col("moods") > 1)["track_id"])
    assert conflicts  # the two curators do disagree on a few tracks


def test_a_code_missing_from_the_mapping_rejects_the_row(tmp_path):
    source = tmp_path / "moodify_head.csv"
    pl.read_csv(MOODIFY_CSV).head(3).with_columns(pl.lit(7).alias("labels")).write_csv(source)

    result = ingest_file(source, NOW, read_mapping(MOODIFY_MAPPING))

    reasons = pq.read_table(source_dir("file_rejects") / result.landed.name).column("reason").to_pylist()
    assert reasons == ["mood '7' is not in the [moods] of moodify.mapping.toml (0, 1, 2, 3)"] * 3


def test_a_mapping_naming_an_absent_column_is_refused_with_the_columns_there(tmp_path):
    mapping = tmp_path / "wrong.toml"
    mapping.write_text('[columns]\nlength = "duration"\n')

    with pytest.raises(BadInputError) as raised:
        ingest_file(MOODIFY_CSV, NOW, read_mapping(mapping))

    message = str(raised.value)
    assert message.startswith(f"{mapping}: maps length = 'duration', but {MOODIFY_CSV} has no such column")
    assert "its columns are: , track, artist, duration (ms)," in message


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('[columns]\nloudness_db = "loudness"\n', "[columns] names loudness_db, which moodcast does not have"),
        ('[moods]\n0 = "Gloomy"\n', "[moods] maps to unknown mood(s): 0 = 'Gloomy'"),
        ("[columns\n", "not a valid TOML mapping file"),
        ("[labels]\n", "unknown section(s) ['labels']"),
        ("moods = [1, 2]\n", "[moods] must be a table of code = mood"),
        ('moods = "Sad"\n', "[moods] must be a table of code = mood"),
        ("[moods]\n0 = 3\n", "[moods] must be a table of code = mood"),
        ('columns = ["track_id"]\n', "[columns] must be a table of moodcast column = \"the file's column\""),
        ('columns = "track_id"\n', "[columns] must be a table of moodcast column = \"the file's column\""),
        ("[columns]\ntrack_id = 1\n", "[columns] must be a table of moodcast column = \"the file's column\""),
    ],
)
def test_a_wrong_mapping_file_says_what_is_wrong(tmp_path, text, complaint):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(text)

    with pytest.raises(BadInputError, match=r"^" + str(mapping).replace(".", r"\.") + ": ") as raised:
        read_mapping(mapping)

    assert complaint in str(raised.value)


def test_ingesting_again_with_another_mapping_replaces_the_first_landing(tmp_path):
    ingest_file(MOODIFY_CSV, NOW, read_mapping(MOODIFY_MAPPING))
    swapped = tmp_path / "swapped.toml"
    mapping = MOODIFY_MAPPING.read_text()
    swapped.write_text(mapping.replace('0 = "Sad"', '0 = "Calm"').replace('3 = "Calm"', '3 = "Sad"'))

    result = ingest_file(MOODIFY_CSV, NOW, read_mapping(swapped))

    assert not result.unchanged
    landed = pl.read_parquet(source_dir("files") / "moodify_1200-*.parquet")
    assert landed.height == 1200
    assert landed.filter(pl.col("source_row") == 2)["mood"].to_list() == ["Calm"]  # moodify code 0


def test_the_command_takes_a_mapping(home):
    result = run_command("ingest", "files", str(MOODIFY_CSV), "--mapping", str(MOODIFY_MAPPING), home=home)

    assert result.returncode == 0, result.stderr
    assert "1200 rows: 1200 accepted, 0 rejected" in result.stdout
