"""The landing zone: one folder per source, Parquet files with explicit Arrow schemas.

dbt declares each folder as a source over a glob. A glob that matches no file fails the
whole `dbt build`, so every folder always holds a zero-row `_schema.parquet`.
"""

import functools
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from moodcast import settings
from moodcast.atomic import replacing
from moodcast.contract import FEATURES

SCHEMA_FILE_NAME = "_schema.parquet"
SOURCE_FILE_METADATA_KEY = b"moodcast.source_file"
LINEAGE_FIELDS = [
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("source_row", pa.int64(), nullable=False),  # 1-based data row (header excluded)
    pa.field("source_sha256", pa.string(), nullable=False),
    pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
]

FILE_TRACKS_SCHEMA = pa.schema(
    [
        pa.field("track_id", pa.string(), nullable=False),
        pa.field("track_name", pa.string()),
        pa.field("artist_name", pa.string()),
        pa.field("album_name", pa.string()),
        *(pa.field(name, pa.int64() if name == "length" else pa.float64(), nullable=False) for name in FEATURES),
        pa.field("mood", pa.string()),  # null: an unlabelled track (a catalog to score)
        *LINEAGE_FIELDS,
    ]
)

FILE_REJECTS_SCHEMA = pa.schema(
    [
        pa.field("track_reference", pa.string()),  # the id as written in the file, if any
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw_record", pa.string(), nullable=False),  # the whole row, as JSON
        *LINEAGE_FIELDS,
    ]
)

# One row per track row of a Spotify playlist or album, or per requested track (`python -m ingest spotify`).
SPOTIFY_TRACKS_SCHEMA = pa.schema(
    [
        pa.field("track_id", pa.string(), nullable=False),
        pa.field("track_name", pa.string()),
        pa.field("artist_name", pa.string()),  # every artist, joined with ", "
        pa.field("album_id", pa.string()),
        pa.field("album_name", pa.string()),
        pa.field("release_date", pa.string()),  # as precise as Spotify knows it: YYYY, YYYY-MM or YYYY-MM-DD
        pa.field("duration_ms", pa.int64()),  # from the track's metadata
        # All null when features_status is missing or invalid, some when it is incomplete.
        *(pa.field(name, pa.int64() if name == "length" else pa.float64()) for name in FEATURES),
        pa.field("features_status", pa.string(), nullable=False),  # complete | incomplete | missing | invalid
        pa.field("features_provider", pa.string()),  # spotify | reccobeats; null when it had no features
        pa.field("mood", pa.string()),  # the label given with the playlist (or album, artist, track), if any
        pa.field("collection_type", pa.string(), nullable=False),  # playlist | album | track
        pa.field("collection_id", pa.string(), nullable=False),
        pa.field("collection_name", pa.string()),
        pa.field("collection_position", pa.int64(), nullable=False),  # 1-based row in the playlist or album
        pa.field("requested_as", pa.string(), nullable=False),  # the reference asked for, e.g. spotify:artist:ID
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

SPOTIFY_REJECTS_SCHEMA = pa.schema(
    [
        pa.field("track_reference", pa.string()),  # the track or reference that could not be used, if any
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw_record", pa.string()),  # what Spotify answered, or the line as written, as JSON
        pa.field("source_name", pa.string(), nullable=False),  # spotify:playlist:ID, … or the reference file
        pa.field("source_row", pa.int64()),  # 1-based row in the playlist or album, or line in the file
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

# Folder name under landing/ → schema. dbt's sources (dbt_project/models/staging) name the same folders.
SOURCES: dict[str, pa.Schema] = {
    "files": FILE_TRACKS_SCHEMA,
    "file_rejects": FILE_REJECTS_SCHEMA,
    "spotify": SPOTIFY_TRACKS_SCHEMA,
    "spotify_rejects": SPOTIFY_REJECTS_SCHEMA,
}


def source_dir(source: str) -> Path:
    return settings.landing_dir() / source


def ensure_landing_zone() -> None:
    """Create every source folder with its zero-row schema file, so no dbt glob is ever empty."""
    for source, schema in SOURCES.items():
        schema_file = source_dir(source) / SCHEMA_FILE_NAME
        if not schema_file.exists():
            write_atomically(schema.empty_table(), schema_file)


def write_atomically(table: pa.Table, path: Path) -> None:
    """Write the table as Parquet at path, whole or not at all (moodcast.atomic)."""
    with replacing(path) as temporary:
        pq.write_table(table, temporary, **parquet_options(table.schema))


def parquet_options(schema: pa.Schema) -> dict:
    """How landed Parquet is written: a dictionary only for the columns whose values repeat (names, labels, reasons,
    lineage), and snappy for every column but the features and track ids. The features are noise-like numbers and
    track ids are unique: pyarrow's default, a dictionary for every column until it outgrows a page, spent a third
    of ingest's time on them, and zstd most of the rest for little (at 10 M tracks: 924 MB written in 7.2 s, read
    into DuckDB in 5.8 s; with snappy for all, 1,023 MB in 2.3 s, read in 3.2 s). Snappy shrank them by 0-7 % for
    a fifth of ingest's time (1,068 MB without it; ingest 6.1 s -> 5.0 s). Every Parquet reader reads snappy: it
    is Spark's and pyarrow's default."""
    repeating = [field.name for field in schema if field.name != "track_id"
                 and (pa.types.is_string(field.type) or pa.types.is_timestamp(field.type))]
    incompressible = {field.name for field in schema if field.name == "track_id" or pa.types.is_floating(field.type)}
    return {"compression": {name: "none" if name in incompressible else "snappy" for name in schema.names},
            "use_dictionary": repeating}


# A landed file's name is made from its input file's path (with the content and the mapping), so what its metadata
# says never changes: read once per process. An ingest looks up every landed file for each input file it takes
# (remove_superseded); reading their footers each time made a cron run over 200 past drops take 8.8 s to land nothing.
@functools.cache
def landed_source_file(path: Path) -> str | None:
    """The input file a landed Parquet file came from, as recorded in its metadata."""
    metadata = pq.read_schema(path).metadata or {}
    value = metadata.get(SOURCE_FILE_METADATA_KEY)
    return value.decode() if value else None
