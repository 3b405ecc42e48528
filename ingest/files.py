"""Land CSV or Parquet files of tracks with audio features (`python -m ingest files PATH…`).

Every input row ends up in exactly one place: the file's landed tracks, or its rejects with
the reason. The landed file is named after the input's content hash, so ingesting the same
file twice changes nothing, and a new version of a file replaces the old one's rows.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from ingest.landing import (
    FILE_REJECTS_SCHEMA,
    FILE_TRACKS_SCHEMA,
    SCHEMA_FILE_NAME,
    SOURCE_FILE_METADATA_KEY,
    ensure_landing_zone,
    landed_source_file,
    source_dir,
    write_atomically,
)
from ingest.mapping import ColumnMapping
from moodcast.contract import CLASSES, FEATURE_RANGES, FEATURES
from moodcast.errors import BadInputError
from moodcast.track_ids import TRACK_REFERENCE_PATTERN

# Landing column → the header spellings recognised for it (compared lower-cased and trimmed).
COLUMN_SPELLINGS: dict[str, tuple[str, ...]] = {
    "track_id": ("track_id", "id", "uri", "track_uri", "spotify_id", "url", "track_url"),
    "length": ("length", "duration_ms"),
    "mood": ("mood",),
    "track_name": ("name", "track_name", "track", "title"),
    "artist_name": ("artist", "artists", "artist_name"),
    "album_name": ("album", "album_name"),
}
REQUIRED_COLUMNS = ("track_id", *FEATURES)
READERS = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet"}
NO_MAPPING = ColumnMapping()  # columns found by their usual spellings, moods by name


@dataclass(frozen=True)
class IngestResult:
    source: Path
    landed: Path
    accepted: int
    rejected: int
    unchanged: bool
    reject_examples: tuple[str, ...] = ()


def ingest_file(path: Path, ingested_at: datetime, mapping: ColumnMapping = NO_MAPPING) -> IngestResult:
    """Validate one input file and land its accepted rows and its rejects."""
    path = path.resolve()
    digest = file_sha256(path)
    landing_key = hashlib.sha256((digest + mapping.fingerprint).encode()).hexdigest() if mapping.fingerprint else digest
    landed_name = f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', path.stem)}-{landing_key[:12]}.parquet"
    tracks_path = source_dir("files") / landed_name
    rejects_path = source_dir("file_rejects") / landed_name
    ensure_landing_zone()
    if tracks_path.exists() and rejects_path.exists():
        return IngestResult(path, tracks_path, row_count(tracks_path), row_count(rejects_path), unchanged=True)

    raw = read_as_text(path)
    checked = check_rows(raw, resolve_columns(raw.columns, path, mapping), mapping)
    lineage = [
        pl.lit(str(path)).alias("source_file"),
        pl.col("source_row"),
        pl.lit(digest).alias("source_sha256"),
        pl.lit(ingested_at).alias("ingested_at"),
    ]
    accepted = checked.filter(pl.col("reason").is_null())
    rejected = checked.filter(pl.col("reason").is_not_null())
    metadata = {SOURCE_FILE_METADATA_KEY: str(path).encode()}
    # Rejects first: the tracks file is what marks the file as landed.
    write_atomically(
        rejected.select("track_reference", "reason", "raw_record", *lineage)
        .to_arrow()
        .cast(FILE_REJECTS_SCHEMA.with_metadata(metadata)),
        rejects_path,
    )
    write_atomically(
        accepted.select(
            "track_id", "track_name", "artist_name", "album_name", *FEATURES, "mood", *lineage
        )
        .to_arrow()
        .cast(FILE_TRACKS_SCHEMA.with_metadata(metadata)),
        tracks_path,
    )
    remove_superseded(path, keep=landed_name)
    examples = tuple(
        f"row {row}: {reason}" for row, reason in rejected.select("source_row", "reason").head(5).iter_rows()
    )
    return IngestResult(path, tracks_path, accepted.height, rejected.height, False, examples)


def file_sha256(path: Path) -> str:
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def row_count(parquet_path: Path) -> int:
    return pl.scan_parquet(parquet_path).select(pl.len()).collect().item()


def read_as_text(path: Path) -> pl.DataFrame:
    """Read every column as text, so each value is checked here and kept verbatim in rejects."""
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise BadInputError(f"{path}: not a CSV or Parquet file (expected one of {', '.join(READERS)})")
    try:
        if kind == "CSV":
            frame = pl.read_csv(path, infer_schema=False)
        else:
            frame = pl.read_parquet(path)
            frame = frame.with_columns(pl.all().cast(pl.String))
    except (pl.exceptions.PolarsError, OSError) as error:
        raise BadInputError(f"{path}: could not be read as a {kind} table: {error}") from error
    return frame.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row"))


def resolve_columns(columns: list[str], path: Path, mapping: ColumnMapping) -> dict[str, str]:
    """Map each landing column to the input column that holds it; fail if a required one is missing."""
    absent = {target: column for target, column in mapping.columns.items() if column not in columns}
    if absent:
        listed = ", ".join(f"{target} = {column!r}" for target, column in absent.items())
        raise BadInputError(
            f"{mapping.source}: maps {listed}, but {path} has no such column; its columns are: {', '.join(columns)}"
        )
    by_spelling = {column.strip().lower(): column for column in columns}
    spellings = COLUMN_SPELLINGS | {feature: (feature,) for feature in FEATURES if feature not in COLUMN_SPELLINGS}
    found = {
        target: next(by_spelling[s] for s in options if s in by_spelling)
        for target, options in spellings.items()
        if any(s in by_spelling for s in options)
    } | mapping.columns
    missing = [target for target in REQUIRED_COLUMNS if target not in found]
    if missing:
        described = ", ".join(
            f"{target} (as {', '.join(spellings[target][:-1])} or {spellings[target][-1]})"
            if len(spellings[target]) > 1
            else target
            for target in missing
        )
        raise BadInputError(
            f"{path}: missing required column(s): {described}. "
            f"A track file needs a track id column and the 10 features: {', '.join(FEATURES)}. "
            "If the file names them differently, map them with --mapping (see data/moodify.mapping.toml)."
        )
    return found


def check_rows(raw: pl.DataFrame, columns: dict[str, str], mapping: ColumnMapping) -> pl.DataFrame:
    """Parse every value; `reason` is null for a usable row, else says everything wrong with it."""
    original_columns = [c for c in raw.columns if c != "source_row"]
    text = {target: pl.col(source).str.strip_chars() for target, source in columns.items()}
    track_id = text["track_id"].str.extract(TRACK_REFERENCE_PATTERN, 1)
    values = {feature: text[feature].cast(pl.Float64, strict=False) for feature in FEATURES}
    mood_text = text.get("mood", pl.lit(None, pl.String))
    if mapping.mood_codes:
        mood = mood_text.replace_strict(mapping.mood_codes, default=None, return_dtype=pl.String)
        unknown_mood = f"mood '{{}}' is not in the [moods] of {mapping.source.name} ({', '.join(mapping.mood_codes)})"
    else:
        mood = mood_text.str.to_lowercase().replace_strict({c.lower(): c for c in CLASSES}, default=None)
        unknown_mood = f"mood is not one of {', '.join(CLASSES)}: '{{}}'"

    problems = [
        pl.when(is_blank(text["track_id"]))
        .then(pl.lit("track id is missing"))
        .when(track_id.is_null())
        .then(pl.format("track id is not a Spotify track ID, URI or URL: '{}'", text["track_id"])),
        *(feature_problem(feature, text[feature], values[feature]) for feature in FEATURES),
        pl.when(~is_blank(mood_text) & mood.is_null()).then(pl.format(unknown_mood, mood_text)),
    ]
    reason = pl.concat_str(problems, separator="; ", ignore_nulls=True)
    return raw.select(
        "source_row",
        track_id.alias("track_id"),
        text["track_id"].alias("track_reference"),
        *(text.get(name, pl.lit(None, pl.String)).alias(name) for name in ("track_name", "artist_name", "album_name")),
        *((values[f].round(0).cast(pl.Int64) if f == "length" else values[f]).alias(f) for f in FEATURES),
        mood.alias("mood"),
        pl.when(reason != "").then(reason).alias("reason"),
        pl.struct(original_columns).struct.json_encode().alias("raw_record"),
    )


def feature_problem(feature: str, text: pl.Expr, value: pl.Expr) -> pl.Expr:
    valid = FEATURE_RANGES[feature]
    out_of_range = pl.lit(False)
    if valid.low is not None:
        out_of_range = out_of_range | ((value < valid.low) if valid.low_inclusive else (value <= valid.low))
    if valid.high is not None:
        out_of_range = out_of_range | (value > valid.high)
    return (
        pl.when(is_blank(text))
        .then(pl.lit(f"{feature} is missing"))
        .when(value.is_null() | ~value.is_finite())
        .then(pl.format(f"{feature} is not a number: '{{}}'", text))
        .when(out_of_range)
        .then(pl.format(f"{feature} is out of range ({valid.describe()}): {{}}", text))
    )


def is_blank(text: pl.Expr) -> pl.Expr:
    return text.is_null() | (text == "")


def remove_superseded(path: Path, keep: str) -> None:
    """Drop what earlier versions of the same input file landed: the new version replaces them."""
    for landed in source_dir("files").glob("*.parquet"):
        if landed.name not in (keep, SCHEMA_FILE_NAME) and landed_source_file(landed) == str(path):
            (source_dir("file_rejects") / landed.name).unlink(missing_ok=True)
            landed.unlink()
