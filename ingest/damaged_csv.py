"""CSV files Polars refuses whole: where the damage is, and the rows around it.

Polars stops at a row with more fields than the header, or a quote that is never closed, naming
neither the line nor the row. Python's csv module reads such a file again, record by record (slower,
but only damaged files pay): a quote never closed is reported with the line it opens on and the file
is refused (where its field ends cannot be known); rows with too many fields are rejected, each with
its line number, and the other rows land. A row with too few fields is read as Polars reads it, the
missing values empty.
"""

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from moodcast.errors import BadInputError

BATCH_ROWS = 100_000
REJECT_SCHEMA = {"source_row": pl.Int64, "track_reference": pl.String, "reason": pl.String, "raw_record": pl.String}


class RaggedRows(Exception):
    """The file's only damage is rows with more fields than its header: read it with text_batches."""


def records(path: Path) -> Iterator[tuple[int, int, list[str]]]:
    """(data row, line the record starts on, fields) for every record after the header; blank lines included,
    as empty records, so data rows count as Polars counts them."""
    with path.open(newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream, strict=True)
        row, line = 0, 1
        try:
            next(reader, None)
            line = reader.line_num + 1
            for fields in reader:
                row += 1
                yield row, line, fields
                line = reader.line_num + 1
        except UnicodeDecodeError as error:
            raise BadInputError(f"{path}: could not be read as a CSV table: near line {line}, it is not UTF-8 text "
                                f"({error.reason}); save it as UTF-8 CSV and ingest it again") from None
        except csv.Error as error:
            advice = (" (a quote opened there is never closed: quote the whole value and double any quote inside "
                      "it, or remove the stray quote)") if "end of data" in str(error) else ""
            raise BadInputError(f"{path}: could not be read as a CSV table: line {line} (data row {row + 1}): "
                                f"{error}{advice}; fix it and ingest the file again") from None


def diagnose(path: Path, error: Exception) -> Exception:
    """What to raise for a CSV file Polars could not read: RaggedRows, or a BadInputError naming the line."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as stream:
        header = len(next(csv.reader(stream), []))
    if any(len(fields) > header for _, _, fields in records(path)):  # raises for a quote never closed or non-text
        return RaggedRows()
    return BadInputError(f"{path}: could not be read as a CSV table: {error}")


def text_batches(path: Path, header: list[str], id_column: str) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """(rows as text columns with `source_row`, rows with too many fields as rejects), in batches."""
    id_index = header.index(id_column)
    rows: list[list[str | None]] = []
    ragged: list[dict] = []
    for row, line, fields in records(path):
        if len(fields) > len(header):
            ragged.append({
                "source_row": row,
                "track_reference": fields[id_index],
                "reason": f"line {line} has {len(fields)} fields, the header {len(header)}: a stray delimiter, "
                          "or a value with a comma that needs quotes",
                "raw_record": json.dumps(dict(zip(header, fields, strict=False)) | {"": fields[len(header):]}),
            })
        elif fields:  # a blank line is no row
            rows.append([row, *(value if value != "" else None for value in fields),
                         *[None] * (len(header) - len(fields))])
        if len(rows) + len(ragged) >= BATCH_ROWS:
            yield frame(rows, header), pl.DataFrame(ragged, schema=REJECT_SCHEMA)
            rows, ragged = [], []
    yield frame(rows, header), pl.DataFrame(ragged, schema=REJECT_SCHEMA)


def frame(rows: list[list], header: list[str]) -> pl.DataFrame:
    schema = {"source_row": pl.Int64, **{name: pl.String for name in header}}
    return pl.DataFrame(rows, schema=schema, orient="row")
