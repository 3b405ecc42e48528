"""The command line of `python -m ingest spotify`.

References keep their order, and `--mood` labels the option just before it, so that
`--playlist A --mood Calm --playlist B --mood Sad` says what it means.
"""

import argparse
from pathlib import Path

from ingest.spotify.command import SpotifyIngest, format_summary, ingest_spotify
from ingest.spotify.features import SOURCES
from ingest.spotify.labels import read_labels
from ingest.spotify.progress import progress_display
from ingest.spotify.references import canonical_mood, parse_reference_of_kind, read_reference_file, with_mood
from ingest.spotify.retry import RetryPolicy
from moodcast import settings
from moodcast.errors import BadInputError
from moodcast.secrets import scrub

REFERENCE_OPTIONS = {"--playlist": "playlist", "--album": "album", "--artist": "artist", "--track": "track"}
REFERENCE_HELP = {
    "--playlist": "a playlist's tracks",
    "--album": "an album's tracks",
    "--artist": "the tracks of all an artist's albums, singles and compilations",
    "--track": "one track",
}
DESCRIPTION = """\
Land tracks, their Spotify metadata and their audio features under landing/spotify/, labelled
with a mood or not. Name what to land with any mix of the options below, each repeatable; an ID,
a spotify: URI or an open.spotify.com URL all work. Rows that cannot be used (removed tracks,
local files, unknown IDs) go to landing/spotify_rejects/ with the reason.

Credentials come from SPOTIPY_CLIENT_ID and SPOTIPY_CLIENT_SECRET, in the environment or in a
.env file in the working directory. Killed or rate-limited, the same command continues where it
stopped; run again once finished, it replaces what it landed before.
"""


class _Named(argparse.Action):
    """Append (option, value, mood) to `named`, in command-line order."""

    def __call__(self, parser, namespace, value, option_string=None):
        namespace.named = [*(namespace.named or []), [option_string, value, None]]


class _Mood(argparse.Action):
    """Give the option just before it a mood."""

    def __call__(self, parser, namespace, value, option_string=None):
        if not namespace.named:
            raise argparse.ArgumentError(self, "it labels the option before it: put it after a --playlist, "
                                               "--album, --artist, --track or --from-file")
        last = namespace.named[-1]
        if last[0] == "--labels":
            raise argparse.ArgumentError(self, "a --labels file gives its playlists their moods itself")
        if last[2] is not None:
            raise argparse.ArgumentError(self, f"{last[0]} {last[1]} already has the mood {last[2]}")
        try:
            last[2] = canonical_mood(value)
        except BadInputError as error:
            raise argparse.ArgumentError(self, str(error)) from error


def add_spotify_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "spotify", help="land tracks and audio features from Spotify playlists, albums, artists or track IDs",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    named = parser.add_argument_group("what to land (repeatable, in any mix)")
    for option, help_text in REFERENCE_HELP.items():
        named.add_argument(option, action=_Named, dest="named", metavar="REF", help=help_text)
    named.add_argument("--from-file", action=_Named, dest="named", metavar="FILE",
                       help="one reference per line; bare IDs are tracks; lines starting with # are skipped")
    named.add_argument("--labels", action=_Named, dest="named", metavar="TOML",
                       help="a labels file: mood = [playlists] (see data/moods.example.toml)")
    named.add_argument("--mood", action=_Mood, dest="named", metavar="MOOD",
                       help="label the tracks of the option just before it: Calm, Energetic, Happy or Sad")
    parser.add_argument("--features", choices=SOURCES, default="auto",
                        help="where audio features come from; auto: Spotify, then ReccoBeats once Spotify "
                             "answers 403 (default: %(default)s)")
    parser.add_argument("--max-retry-after", type=float, default=settings.DEFAULT_MAX_RETRY_AFTER_S,
                        metavar="SECONDS", help="wait out a rate limit's Retry-After up to this long; longer: save "
                                                "progress and exit 69 (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="log warnings and errors only")


def spotify_request(args: argparse.Namespace) -> SpotifyIngest:
    references, line_rejects = [], []
    for option, value, mood in args.named or []:
        if option == "--from-file":
            found, rejected = read_reference_file(Path(value))
            references += with_mood(found, mood)
            line_rejects += rejected
        elif option == "--labels":
            references += read_labels(Path(value))
        else:
            try:
                references += with_mood([parse_reference_of_kind(value, REFERENCE_OPTIONS[option])], mood)
            except BadInputError as error:
                raise BadInputError(f"{option}: {error}") from error
    return SpotifyIngest(references, line_rejects, args.features)


def run_spotify(args: argparse.Namespace) -> None:
    request = spotify_request(args)
    with progress_display() as progress:
        summary = ingest_spotify(request, RetryPolicy(max_retry_after_s=args.max_retry_after), progress)
    print(scrub(format_summary(summary)))  # its failures quote servers' error text
    if summary.failures:
        raise BadInputError(f"{len(summary.failures)} playlist(s), album(s) or artist(s) could not be landed: "
                            "see 'failed' above")
