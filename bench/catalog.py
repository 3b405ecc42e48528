"""The bench's synthetic catalog and nightly drop, each written in a process of its own
(bench.__main__.in_process_of_its_own): Linux counts what a parent holds in the peak RSS of the stages it starts.

Each track is a seed track's features plus noise, kept in the valid ranges, so their distributions and
correlations are the seed's; track ids are random, 22 base-62 characters as Spotify's.
"""

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from moodcast import settings
from moodcast.contract import FEATURE_RANGES, FEATURES

SEED_CSV = settings.REPO_ROOT / "data" / "data_moods.csv"
NOISE = 0.1  # noise added to a seed track's features, as a share of each feature's spread in the seed
GENERATED_BATCH_ROWS = 1_000_000
ALPHABET = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)


def generate_catalog(path: Path, rows: int, seed: int, known_ids: pa.Array | None = None) -> None:
    """Seed tracks' features plus noise, clipped to their valid ranges; random, unique-enough track ids, or
    known_ids (tracks already in the catalog, whose features thereby change) for the first of them."""
    rng = np.random.default_rng(seed)
    seeds = pl.read_csv(SEED_CSV).select(FEATURES).to_numpy().astype(np.float64)
    spread = seeds.std(axis=0)
    low = np.array([r.low for r in FEATURE_RANGES.values()], dtype=np.float64)
    high = np.array([r.high for r in FEATURE_RANGES.values()], dtype=np.float64)
    low[FEATURES.index("length")] = 30_000  # half a minute: no real track is shorter than a blip
    schema = pa.schema([pa.field("id", pa.string()),
                        *(pa.field(f, pa.int64() if f == "length" else pa.float64()) for f in FEATURES)])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, GENERATED_BATCH_ROWS):
            n = min(GENERATED_BATCH_ROWS, rows - start)
            values = seeds[rng.integers(0, len(seeds), n)] + rng.normal(0.0, NOISE, (n, len(FEATURES))) * spread
            values = np.clip(values, low, high)
            ids = ALPHABET[rng.integers(0, len(ALPHABET), (n, 22))]  # 22 base-62 characters, as Spotify's
            offsets = np.arange(0, 22 * (n + 1), 22, dtype=np.int32)
            columns = [pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(ids.tobytes()))]
            if known_ids is not None and start < len(known_ids):
                known = known_ids[start:start + n].cast(pa.string())
                columns[0] = pa.concat_arrays([known, columns[0][len(known):]])
            columns += [pa.array(np.round(values[:, i]).astype(np.int64) if f == "length" else values[:, i])
                        for i, f in enumerate(FEATURES)]
            writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))


def drop(home: Path, catalog: Path, rows: int, seed: int, name: str = "bench-drop") -> Path:
    """A nightly drop: DELTA_SHARE of the catalog, half tracks it has (new features), half new tracks."""
    path = home / f"{name}.parquet"
    changed = rows // 2
    # From the catalog's first row group: its ids are as random as any.
    ids = pq.ParquetFile(catalog).read_row_group(0, columns=["id"]).column("id")
    picked = np.random.default_rng(seed + 1).choice(len(ids), min(changed, len(ids)), replace=False)
    generate_catalog(path, rows, seed + 2, known_ids=ids.take(pa.array(np.sort(picked))).combine_chunks())
    return path


def past_drops(catalog: Path, folder: Path, count: int, rows: int) -> list[Path]:
    """count drops of `rows` tracks each, taken in turn from the catalog's first row group, as a year of nightly
    drops delivered to one folder."""
    tracks = pq.ParquetFile(catalog).read_row_group(0)
    folder.mkdir(parents=True)
    paths = []
    for number in range(count):
        paths.append(folder / f"drop-{number:03d}.parquet")
        pq.write_table(tracks.slice(number * rows % len(tracks), rows), paths[-1])
    return paths


def catalog_csv(catalog: Path, path: Path, rows: int) -> Path:
    """The catalog's first rows written as CSV (what a user's export looks like), for the CSV ingest's figures."""
    pl.scan_parquet(catalog).head(rows).sink_csv(path)
    return path
