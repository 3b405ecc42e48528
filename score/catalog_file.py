"""`python -m score --catalog PATH`: score a CSV or Parquet file of tracks without landing it.

The file is read and checked exactly as `python -m ingest files` does it (same column spellings,
same checks): its usable rows are staged in a scratch Parquet file for DuckDB, its unusable ones
are counted and the first few reported. When a track appears more than once, its last row counts.
"""

import logging
from pathlib import Path

import pyarrow as pa

from ingest.files import Batches, open_checked, parquet_batches
from moodcast.errors import BadInputError
from moodcast.landing import FILE_TRACKS_SCHEMA
from moodcast.sql import sql_text
from score.engines import scratch_dir
from score.plan import NO_NAMES, Catalog

log = logging.getLogger("score")

REJECT_EXAMPLES = 5


def file_catalog(path: Path, features: list[str]) -> Catalog:
    path = path.resolve()
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    staged = scratch_dir() / "catalog.parquet"
    accepted, rejected, examples = open_checked(path).read(lambda batches: stage(batches, staged, features))
    if rejected:
        log.warning("%d of %d rows of %s cannot be scored and are left out, e.g. %s", rejected, accepted + rejected,
                    path, "; ".join(examples[:REJECT_EXAMPLES]))
    if accepted == 0:
        raise BadInputError(f"{path}: no row can be scored ({rejected} rejected, e.g. {examples[0]})"
                            if examples else f"{path}: the file has no rows")
    relation = (
        f"(select * exclude (source_row) from read_parquet({sql_text(str(staged))}) "
        "qualify row_number() over (partition by track_id order by source_row desc) = 1)"
    )
    return Catalog(str(path), relation, NO_NAMES)


def stage(batches: Batches, staged: Path,
          features: list[str]) -> tuple[int, int, list[str]]:
    """Write the usable rows to `staged`: (accepted, rejected, the first rejects)."""
    schema = pa.schema([*(FILE_TRACKS_SCHEMA.field(name) for name in ("track_id", *features)),
                        pa.field("source_row", pa.int64(), nullable=False)])
    accepted, rejected, examples = 0, 0, []
    with parquet_batches(staged, schema) as write:
        for good, bad in batches:
            write(good.select("track_id", *features, "source_row"))
            accepted, rejected = accepted + good.height, rejected + bad.height
            examples += [f"row {row}: {why}" for row, why in bad.select("source_row", "reason").head(5).iter_rows()]
    return accepted, rejected, examples
