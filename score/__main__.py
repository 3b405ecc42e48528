"""`python -m score`: predict the mood of every track in `track_features` with the current model.

Replaces the `predictions` table in one transaction (one row per track: mood, confidence, the four
probabilities, model_version, scored_at), then prints how many tracks got each mood.
"""

import argparse
from datetime import UTC, datetime

from moodcast import cli, registry, warehouse
from score.catalog import mood_counts, score_catalog


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m score", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quiet", action="store_true", help="log warnings and errors only")
    return parser.parse_args()


def format_counts(counts: list[tuple[str, int, float, float]]) -> str:
    lines = [f"{'mood':<10} {'tracks':>8} {'share':>7} {'mean confidence':>16}"]
    lines += [f"{mood:<10} {tracks:>8} {100 * share:>6.1f}% {confidence:>16.3f}" for mood, tracks, share, confidence in counts]
    lines.append(f"{'total':<10} {sum(row[1] for row in counts):>8}")
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    cli.configure_logging(args.quiet)
    model_version = registry.current()
    started = datetime.now(UTC)
    with warehouse.connect() as connection:
        scored = score_catalog(connection, model_version, started)
        counts = mood_counts(connection)
    seconds = (datetime.now(UTC) - started).total_seconds()
    print(f"scored {scored} tracks with model {model_version.version} in {seconds:.1f} s "
          f"({scored / seconds:,.0f} rows/s)\n")
    print(format_counts(counts))


if __name__ == "__main__":
    cli.run(main)
