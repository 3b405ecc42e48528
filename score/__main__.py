"""`python -m score`: predict the mood of every track in `track_features` with the current model.

Replaces the `predictions` table in one transaction (one row per track: mood, confidence, the four
probabilities, model_version, scored_at), then prints how many tracks got each mood.

`python -m score track ID_OR_URI_OR_URL` predicts the mood of one track instead, writing nothing.
"""

import argparse
from datetime import UTC, datetime

from ingest.spotify.features import SOURCES
from ingest.spotify.retry import RetryPolicy
from moodcast import cli, registry, settings, warehouse
from moodcast.track_ids import parse_track_id
from score import track
from score.catalog import mood_counts, score_catalog


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m score", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", metavar="VERSION",
                        help="score with this model version instead of the current one (see `python -m train list`)")
    parser.add_argument("--quiet", action="store_true", help="log warnings and errors only")
    commands = parser.add_subparsers(dest="command", title="instead of the whole catalog")
    one = commands.add_parser("track", help="predict the mood of one track", description=track.__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    one.add_argument("reference", metavar="ID_OR_URI_OR_URL",
                     help="a Spotify track ID, spotify:track: URI or open.spotify.com URL")
    one.add_argument("--features", choices=SOURCES, default="auto",
                     help="where to fetch features when the warehouse lacks the track (default: %(default)s)")
    one.add_argument("--max-retry-after", type=float, default=settings.DEFAULT_MAX_RETRY_AFTER_S, metavar="SECONDS",
                     help="wait out a rate limit's Retry-After up to this long (default: %(default)s)")
    one.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS, help="log warnings and errors only")
    return parser.parse_args()


def format_counts(counts: list[tuple[str, int, float, float]]) -> str:
    lines = [f"{'mood':<10} {'tracks':>8} {'share':>7} {'mean confidence':>16}"]
    lines += [
        f"{mood:<10} {tracks:>8} {100 * share:>6.1f}% {confidence:>16.3f}" for mood, tracks, share, confidence in counts
    ]
    lines.append(f"{'total':<10} {sum(row[1] for row in counts):>8}")
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    cli.configure_logging(args.quiet)
    model_version = registry.get(args.model) if args.model else registry.current()
    if args.command == "track":
        track_id = parse_track_id(args.reference)
        policy = RetryPolicy(max_retry_after_s=args.max_retry_after)
        print(track.score_track(track_id, args.features, policy, model_version))
        return
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
