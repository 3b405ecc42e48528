"""Land CSV or Parquet files of tracks with audio features (`python -m ingest files PATH…`).

Every input row ends up in exactly one place: the file's landed tracks, or its rejects with
the reason. The landed file is named after a hash of the input's path and content, so ingesting the
same file twice changes nothing, and a new version of a file replaces the rows its path landed before.

Files are read lazily and landed in batches, so memory stays bounded whatever their size. Numbers
stored as numbers (Parquet doubles and integers) are taken as they are; everything else is checked as
text. The reasons for rejecting a row, and the row itself as JSON, are worked out for rejected rows
only: the cheap yes/no checks run on every row, built from the same conditions as the reasons.
A file already landed and unchanged since is known by its status, without reading it (ingest.unchanged).
"""

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ingest import unchanged
from ingest.damaged_csv import RaggedRows, diagnose, text_batches
from ingest.mapping import ColumnMapping
from moodcast.atomic import replacing
from moodcast.contract import CLASSES, FEATURE_RANGES, FEATURES, MOOD_SPELLINGS
from moodcast.errors import BadInputError
from moodcast.landing import (
    FILE_REJECTS_SCHEMA,
    FILE_TRACKS_SCHEMA,
    SOURCE_FILE_METADATA_KEY,
    ensure_landing_zone,
    landed_source_file,
    parquet_options,
    source_dir,
)
from moodcast.track_ids import BARE_ID_PATTERN, TRACK_REFERENCE_PATTERN

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
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
OTHER_SEPARATORS = {";": "semicolon", "\t": "tab", "|": "pipe"}
NO_MAPPING = ColumnMapping()  # columns found by their usual spellings, moods by name
T = TypeVar("T")
BATCH_ROWS = 500_000  # rows per landed batch: large enough for speed, small enough for bounded memory
# Column types whose values are used as they are; a Float32 column goes through text like a CSV, so
# 0.1f lands as 0.1 (its text), not as 0.10000000149011612.
NUMERIC_AS_IS = (pl.Float64, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)
# Bytes of CSV read and parsed at a time (whole records, cut as Polars cuts them: csv_blocks): about 80 k rows
# of the bench's catalog. Ingesting 1 M or 4 M of them peaked at about 0.6 GB with 16 MiB, 0.9-1.1 GB with 64 MiB.
CSV_BLOCK_BYTES = 16 << 20


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
    status = unchanged.status_of(path, mapping.fingerprint)
    if (recorded := unchanged.landed(path, status)) and (result := still_landed(path, recorded)):
        return result
    digest = file_sha256(path)
    # Each source path has its own lineage: the same content at two paths lands twice, and a new version
    # of one replaces only what that path landed.
    landing_key = hashlib.sha256("\0".join([digest, str(path), mapping.fingerprint]).encode()).hexdigest()
    landed_name = f"{landed_stem(path)}-{landing_key[:12]}.parquet"
    tracks_path, rejects_path = landed_paths(landed_name)
    ensure_landing_zone()
    if result := landed_before(path, landed_name):
        landing = unchanged.Landing(landed_name, result.accepted, result.rejected)
        unchanged.remember(path, status, mapping.fingerprint, landing)
        return result

    checked = open_checked(path, mapping)
    lineage = [
        pl.lit(str(path)).alias("source_file"),
        pl.col("source_row"),
        pl.lit(digest).alias("source_sha256"),
        pl.lit(ingested_at).alias("ingested_at"),
    ]
    metadata = {SOURCE_FILE_METADATA_KEY: str(path).encode()}
    accepted, rejected, examples = checked.read(
        lambda batches: land(batches, tracks_path, rejects_path, lineage, metadata))
    remove_superseded(path, keep=landed_name)
    unchanged.remember(path, status, mapping.fingerprint, unchanged.Landing(landed_name, accepted, rejected))
    return IngestResult(path, tracks_path, accepted, rejected, False, tuple(examples[:5]))


def landed_stem(path: Path) -> str:
    """What the names of the files path lands begin with, before the landing's hash: its stem, in safe characters."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem)


def landed_paths(landed_name: str) -> tuple[Path, Path]:
    """The landed tracks and rejects of the files named landed_name."""
    return source_dir("files") / landed_name, source_dir("file_rejects") / landed_name


def is_landed(landed_name: str) -> bool:
    return all(path.exists() for path in landed_paths(landed_name))


def still_landed(path: Path, landing: unchanged.Landing) -> IngestResult | None:
    """What path landed as `landing` records, if both its files are still there. Nothing else is looked at: a
    landing is recorded once it is whole, what earlier versions of path landed removed."""
    if not is_landed(landing.name):
        return None
    return IngestResult(path, landed_paths(landing.name)[0], landing.accepted, landing.rejected, unchanged=True)


def landed_before(path: Path, landed_name: str) -> IngestResult | None:
    """What path landed as landed_name, if both its files are there."""
    if not is_landed(landed_name):
        return None
    tracks_path, rejects_path = landed_paths(landed_name)
    remove_superseded(path, keep=landed_name)  # a run stopped between landing and removing left them
    return IngestResult(path, tracks_path, row_count(tracks_path), row_count(rejects_path), unchanged=True)


def land(batches: Iterator[tuple[pl.DataFrame, pl.DataFrame]], tracks_path: Path, rejects_path: Path,
         lineage: list[pl.Expr], metadata: dict[bytes, bytes]) -> tuple[int, int, list[str]]:
    """Write the (accepted, rejected) batches to the landing zone: (accepted, rejected, the first rejects)."""
    accepted = rejected = 0
    examples: list[str] = []
    # The rejects are published first, as the inner block ends: the tracks file is what marks the file as landed.
    # Each batch is written in a thread of its own while the next one is read and checked, and never more than
    # one batch waits for the writer, so memory stays bounded however fast the reading.
    with (
        parquet_batches(tracks_path, FILE_TRACKS_SCHEMA.with_metadata(metadata)) as write_tracks,
        parquet_batches(rejects_path, FILE_REJECTS_SCHEMA.with_metadata(metadata)) as write_rejects,
        ThreadPoolExecutor(1, thread_name_prefix="ingest-write") as writer,
    ):
        def write(good: pl.DataFrame, bad: pl.DataFrame) -> None:
            write_tracks(good)
            write_rejects(bad)

        writing: Future | None = None
        for good, bad in batches:
            landed = (good.select("track_id", "track_name", "artist_name", "album_name", *FEATURES, "mood", *lineage),
                      bad.select("track_reference", "reason", "raw_record", *lineage))
            if writing:
                writing.result()
            writing = writer.submit(write, *landed)
            accepted, rejected = accepted + good.height, rejected + bad.height
            examples += [f"row {row}: {why}" for row, why in bad.select("source_row", "reason").head(5).iter_rows()]
        if writing:
            writing.result()
    return accepted, rejected, examples


@contextmanager
def parquet_batches(path: Path, schema: pa.Schema) -> Iterator[Callable[[pl.DataFrame], None]]:
    """Yields write(frame): a Parquet file written batch by batch, published whole when the block succeeds."""
    with replacing(path) as temporary, pq.ParquetWriter(temporary, schema, **parquet_options(schema)) as writer:
        def write(frame: pl.DataFrame) -> None:
            if frame.height:
                writer.write_table(frame.to_arrow().cast(schema))

        yield write


def file_sha256(path: Path) -> str:
    if path.is_dir():
        raise BadInputError(f"{path}: is a directory; name the files in it (e.g. {path}/*.csv)")
    if path.exists() and not path.is_file():
        raise BadInputError(f"{path}: not a regular file (a pipe, socket or device): save its content to a file")
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:  # not a write: no storage_failure
        raise BadInputError(f"{path}: cannot be read: {error.strerror}") from error
    return digest.hexdigest()


def row_count(parquet_path: Path) -> int:
    return pl.scan_parquet(parquet_path).select(pl.len()).collect().item()


def scan_table(path: Path) -> pl.LazyFrame:
    """The file as a lazy table with a 1-based `source_row`: CSV columns as text, Parquet columns as stored."""
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise BadInputError(f"{path}: not a CSV or Parquet file (expected one of {', '.join(READERS)})")
    if kind == "CSV" and has_utf16_bom(path):
        raise BadInputError(f"{path}: the file is UTF-16 encoded; moodcast reads UTF-8 CSV: save it as UTF-8 "
                            "(in a spreadsheet: CSV UTF-8; or `iconv -f UTF-16 -t UTF-8`) and ingest it again")
    try:
        table = pl.scan_csv(path, infer_schema=False) if kind == "CSV" else pl.scan_parquet(path)
        table.head(1).collect()  # a file that is no table at all fails here, by name; later damage in checked_batches
    except (pl.exceptions.PolarsError, OSError) as error:
        problem = diagnose(path, error) if kind == "CSV" else None
        if not isinstance(problem, RaggedRows):  # ragged rows are rejected by checked_batches' caller
            raise problem or BadInputError(f"{path}: could not be read as a {kind} table: {error}") from error
    return table.with_row_index("source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))


def has_utf16_bom(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(2) in UTF16_BOMS


Batches = Iterator[tuple[pl.DataFrame, pl.DataFrame]]  # (accepted, rejected) rows, as checked_batches yields them


@dataclass(frozen=True)
class CheckedFile:
    """An input file whose columns are resolved, ready to be read in checked batches: the one door for every
    reader of track files (ingest, `score --catalog`, `train evaluate`)."""

    path: Path
    table: pl.LazyFrame
    header: list[str]
    columns: dict[str, str]  # landing column → the file's column
    mapping: ColumnMapping

    def read(self, consume: Callable[[Batches], T]) -> T:
        """consume(the file's checked batches). Polars refuses a CSV file with too many fields in a row only when
        it meets that row, so consume may be called a second time, from the start, on a reading that rejects
        those rows: it must begin afresh each time (write to a new file, count from zero)."""
        try:
            return consume(checked_batches(file_batches(self.path), self.columns, self.mapping, self.path))
        except RaggedRows:
            return consume(ragged_checked_batches(self.path, self.header, self.columns, self.mapping))


def open_checked(path: Path, mapping: ColumnMapping = NO_MAPPING) -> CheckedFile:
    """The file with its columns resolved; BadInputError, naming the file, if it is no track file."""
    table = scan_table(path)
    header = [c for c in table.collect_schema().names() if c != "source_row"]
    return CheckedFile(path, table, header, resolve_columns(header, path, mapping), mapping)


def checked_batches(
    batches: Iterable[pl.DataFrame], columns: dict[str, str], mapping: ColumnMapping, path: Path
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """(accepted, rejected) batches of the file's batches (file_batches): accepted rows parsed as check_rows parses
    them, rejected ones with check_rows' reason and raw record. Raises BadInputError, naming the file (and for a
    CSV file the line), if it cannot be read, or RaggedRows if a CSV file's only damage is rows with too many
    fields."""
    csv = READERS[path.suffix.lower()] == "CSV"
    try:
        for raw in batches:
            original_columns = [c for c in raw.columns if c != "source_row"]
            if csv:  # a blank line is no row
                raw = raw.filter(~pl.all_horizontal(pl.col(original_columns).is_null()))
            batch = with_checks(raw.lazy(), columns, mapping).collect(engine="streaming")
            yield accepted_rows(batch), rejected_rows(batch, original_columns, columns, mapping)
    except pl.exceptions.PolarsError as error:
        if csv:
            raise diagnose(path, error) from error
        raise BadInputError(f"{path}: could not be read as a Parquet table: {error}") from error
    except (pa.ArrowException, OSError) as error:  # pyarrow reads a Parquet file (file_batches)
        if csv:
            raise
        raise BadInputError(f"{path}: could not be read as a Parquet table: {error}") from error


def file_batches(path: Path) -> Iterator[pl.DataFrame]:
    """The file's rows with a 1-based `source_row`, as scan_table reads them, a batch at a time, each read only
    when it is asked for: a Parquet file BATCH_ROWS rows at a time (pyarrow), a CSV file CSV_BLOCK_BYTES of whole
    records at a time (Polars).

    Not Polars' streaming engine (collect_batches): it does not wait for its caller, so while ingest wrote a batch
    (compressing it, the slow part) it read and checked on, queueing the batches after it. At 10 M rows (Parquet) the
    process peaked over 1.5 GB, and for CSV its memory grew with the file."""
    start = 1
    if READERS[path.suffix.lower()] == "Parquet":
        batches: Iterator[pl.DataFrame] = (pl.from_arrow(batch) for batch in
                                           pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS))
    else:
        # Each block with the header line before it: the header alone says how many columns there are, and
        # names them as scan_csv does.
        batches = (pl.read_csv(header + records, infer_schema=False) for header, records in csv_blocks(path))
    for batch in batches:
        yield batch.with_row_index("source_row", offset=start).with_columns(pl.col("source_row").cast(pl.Int64))
        start += batch.height


def csv_blocks(path: Path) -> Iterator[tuple[bytes, bytes]]:
    """(the header line, whole records of about CSV_BLOCK_BYTES): a CSV file cut after newlines outside quotes (an
    even number of quote characters before them), as Polars' CSV reader cuts it into lines. A quote never closed
    leaves the rest of the file as one block, which Polars then refuses."""
    header: bytes | None = None
    rest = b""
    with path.open("rb") as stream:
        while data := stream.read(CSV_BLOCK_BYTES):
            block = rest + data
            if header is None:
                if (cut := first_record_end(block)) is None:
                    rest = block
                    continue
                header, block = block[:cut], block[cut:]
            cut = last_record_end(block)
            if cut:
                yield header, block[:cut]
            rest = block[cut or 0:]
    if header is not None and rest:
        yield header, rest


def first_record_end(block: bytes) -> int | None:
    """Just after the block's first newline outside quotes; None if it has none."""
    quotes = position = 0
    while (newline := block.find(b"\n", position)) >= 0:
        quotes += block.count(b'"', position, newline)
        if quotes % 2 == 0:
            return newline + 1
        position = newline + 1
    return None


def last_record_end(block: bytes) -> int | None:
    """Just after the block's last newline outside quotes; None if it has none."""
    quotes, newline = block.count(b'"'), len(block)
    while (newline := block.rfind(b"\n", 0, newline)) >= 0:
        if (quotes - block.count(b'"', newline)) % 2 == 0:
            return newline + 1
    return None


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def with_checks(table: Frame, columns: dict[str, str], mapping: ColumnMapping) -> Frame:
    """The table with quick_check's verdict (`__valid`) and each row's landed values (`__<name>`) added: what
    accepted_rows and rejected_rows split. Also how `python -m score spark` checks each Arrow batch on Spark."""
    valid, parsed = quick_check(table.collect_schema(), columns, mapping)
    # The values first: the verdict reads the parsed track id from `__track_id`, so its regex runs once a row.
    return table.with_columns(*(value.alias(f"__{name}") for name, value in parsed.items())).with_columns(
        valid.alias("__valid"))


def accepted_rows(checked: pl.DataFrame) -> pl.DataFrame:
    """The usable rows of a with_checks batch, parsed as check_rows parses them (with `source_row` if it has one)."""
    parsed = [column for column in checked.columns if column.startswith("__") and column != "__valid"]
    return checked.filter(pl.col("__valid")).select(
        pl.col("^source_row$"), *(pl.col(column).alias(column.removeprefix("__")) for column in parsed)
    )


def rejected_rows(checked: pl.DataFrame, original_columns: list[str], columns: dict[str, str],
                  mapping: ColumnMapping) -> pl.DataFrame:
    """The unusable rows of a with_checks batch (which has a `source_row`), with check_rows' reason and raw
    record."""
    bad = checked.filter(~pl.col("__valid")).select(
        "source_row", *(pl.col(c).cast(pl.String) for c in original_columns)
    )
    return check_rows(bad, columns, mapping)


def ragged_checked_batches(
    path: Path, header: list[str], columns: dict[str, str], mapping: ColumnMapping
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """checked_batches for a CSV file with rows of too many fields (RaggedRows): those rows rejected too."""
    for text, ragged in text_batches(path, header, columns["track_id"]):
        for good, bad in checked_batches([text], columns, mapping, path):
            yield good, pl.concat([bad.select(ragged.columns), ragged])


def resolve_columns(columns: list[str], path: Path, mapping: ColumnMapping) -> dict[str, str]:
    """Map each landing column to the input column that holds it; fail if a required one is missing."""
    absent = {target: column for target, column in mapping.columns.items() if column not in columns}
    if absent:
        listed = ", ".join(f"{target} = {column!r}" for target, column in absent.items())
        raise BadInputError(
            f"{mapping.source}: maps {listed}, but {path} has no such column; its columns are: {', '.join(columns)}"
        )
    if len(columns) == 1 and (separator := next((s for s in OTHER_SEPARATORS if s in columns[0]), None)):
        raise BadInputError(
            f"{path}: the header was read as one column ({columns[0][:60]!r}): is the file "
            f"{OTHER_SEPARATORS[separator]}-separated? moodcast reads comma-separated CSV: save it with commas "
            "(or as Parquet) and ingest it again"
        )
    spellings = COLUMN_SPELLINGS | {feature: (feature,) for feature in FEATURES if feature not in COLUMN_SPELLINGS}
    by_spelling: dict[str, list[str]] = {}
    for column in columns:
        by_spelling.setdefault(column.strip().lower(), []).append(column)
    ambiguous = [found for spelling, found in by_spelling.items() if len(found) > 1
                 and any(spelling in options for target, options in spellings.items() if target not in mapping.columns)]
    if ambiguous:
        listed = "; ".join(" and ".join(repr(column) for column in found) for found in ambiguous)
        raise BadInputError(f"{path}: columns {listed} differ only in case, so which one to read is ambiguous: "
                            "rename or drop one, or name the one to use with --mapping")
    by_spelling = {spelling: found[0] for spelling, found in by_spelling.items()}
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
    """Parse every value of a text table; `reason` is null for a usable row, else says everything wrong with it."""
    original_columns = [c for c in raw.columns if c != "source_row"]
    text = {target: pl.col(source).str.strip_chars() for target, source in columns.items()}
    values = {feature: text[feature].cast(pl.Float64, strict=False) for feature in FEATURES}
    mood_text = text.get("mood", pl.lit(None, pl.String))
    mood, unknown_mood = parse_mood(mood_text, mapping)

    problems = [
        pl.when(is_blank(text["track_id"]))
        .then(pl.lit("track id is missing"))
        .when(parse_track_id(text["track_id"]).is_null())
        .then(pl.format("track id is not a Spotify track ID, URI or URL: '{}'", text["track_id"])),
        *(feature_problem(feature, text[feature], values[feature]) for feature in FEATURES),
        pl.when(~is_blank(mood_text) & mood.is_null()).then(pl.format(unknown_mood, mood_text)),
    ]
    reason = pl.concat_str(problems, separator="; ", ignore_nulls=True)
    return raw.select(
        "source_row",
        parse_track_id(text["track_id"]).alias("track_id"),
        text["track_id"].alias("track_reference"),
        *(text.get(name, pl.lit(None, pl.String)).alias(name) for name in ("track_name", "artist_name", "album_name")),
        *(landed_value(f, values[f]).alias(f) for f in FEATURES),
        mood.alias("mood"),
        pl.when(reason != "").then(reason).alias("reason"),
        pl.struct(original_columns).struct.json_encode().alias("raw_record"),
    )


def quick_check(
    schema: pl.Schema, columns: dict[str, str], mapping: ColumnMapping
) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    """What check_rows decides, without its messages: whether a row is usable, and its landed values.

    Built from the same conditions as check_rows, so a row is valid here exactly when check_rows
    gives it no reason. Numeric columns (NUMERIC_AS_IS) are read as numbers: their text would parse
    back to the same value. The verdict reads the parsed track id as the column `__track_id` (with_checks adds
    the values before it): extracting it is the costliest check, and Polars does not share it between the two.
    """
    def text(target: str) -> pl.Expr:
        return pl.col(columns[target]).cast(pl.String).str.strip_chars()

    checks, values = [], {}
    for feature in FEATURES:
        if schema[columns[feature]] in NUMERIC_AS_IS:
            blank, value = pl.col(columns[feature]).is_null(), pl.col(columns[feature]).cast(pl.Float64)
        else:
            blank, value = is_blank(text(feature)), text(feature).cast(pl.Float64, strict=False)
        missing, not_a_number, out_of_range = feature_conditions(feature, blank, value)
        checks.append(~(missing | not_a_number | out_of_range))
        values[feature] = landed_value(feature, value)
    track_id = parse_track_id(text("track_id"))
    mood_text = text("mood") if "mood" in columns else pl.lit(None, pl.String)
    mood, _ = parse_mood(mood_text, mapping)
    checks += [~is_blank(text("track_id")) & pl.col("__track_id").is_not_null(),
               is_blank(mood_text) | mood.is_not_null()]
    names = {name: text(name) if name in columns else pl.lit(None, pl.String)
             for name in ("track_name", "artist_name", "album_name")}
    return pl.all_horizontal(checks), {"track_id": track_id, **names, **values, "mood": mood}


def parse_track_id(text: pl.Expr) -> pl.Expr:
    """The ID in a stripped reference, null if it is none. A bare ID is the reference's whole text: telling one
    costs a tenth of extracting the ID from a reference (at 10 M rows, 0.2 s against 2.2 s), which only the
    other rows pay."""
    return (pl.when(text.str.contains(BARE_ID_PATTERN)).then(text)
            .otherwise(text.str.extract(TRACK_REFERENCE_PATTERN, 1)))


def parse_mood(mood_text: pl.Expr, mapping: ColumnMapping) -> tuple[pl.Expr, str]:
    """The mood (null when unknown), and the reason's template for an unknown one."""
    if mapping.mood_codes:
        mood = mood_text.replace_strict(mapping.mood_codes, default=None, return_dtype=pl.String)
        return mood, f"mood '{{}}' is not in the [moods] of {mapping.source.name} ({', '.join(mapping.mood_codes)})"
    mood = mood_text.str.to_lowercase().replace_strict(MOOD_SPELLINGS, default=None)
    return mood, f"mood is not one of {', '.join(CLASSES)}: '{{}}'"


def landed_value(feature: str, value: pl.Expr) -> pl.Expr:
    """The value as it lands: `length` rounded to whole milliseconds (null when it overflows an integer)."""
    return value.round(0).cast(pl.Int64, strict=False) if feature == "length" else value


def feature_conditions(feature: str, blank: pl.Expr, value: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(missing, not a number, out of range): the checks on one feature, in the order they are reported.

    The range is checked on the value as it lands (a length of 0.4 ms lands as 0), before it is cast."""
    valid = FEATURE_RANGES[feature]
    landed = value.round(0) if feature == "length" else value
    return blank, value.is_null() | value.is_nan(), ~landed.is_between(valid.low, valid.high)


def feature_problem(feature: str, text: pl.Expr, value: pl.Expr) -> pl.Expr:
    missing, not_a_number, out_of_range = feature_conditions(feature, is_blank(text), value)
    valid = FEATURE_RANGES[feature]
    return (
        pl.when(missing)
        .then(pl.lit(f"{feature} is missing"))
        .when(not_a_number)
        .then(pl.format(f"{feature} is not a number: '{{}}'", text))
        .when(out_of_range)
        .then(pl.format(f"{feature} is out of range ({valid.describe()}): {{}}", text))
    )


def is_blank(text: pl.Expr) -> pl.Expr:
    return text.is_null() | (text == "")


def remove_superseded(path: Path, keep: str) -> None:
    """Drop what earlier versions of the same input file landed: the new version replaces them. Only files named
    as path's are (its stem, then a hash of 12 hex digits) have their lineage read: with a drop a night, that is one
    file, not every drop ever landed."""
    for landed in source_dir("files").glob(f"{landed_stem(path)}-{'[0-9a-f]' * 12}.parquet"):
        if landed.name != keep and landed_source_file(landed) == str(path):
            (source_dir("file_rejects") / landed.name).unlink(missing_ok=True)
            landed.unlink()
