import pytest

from moodcast.errors import BadInputError
from moodcast.track_ids import parse_track_id

TRACK = "2H7PHVdQ3mXqEHXcvclTB0"


@pytest.mark.parametrize(
    "reference",
    [
        TRACK,
        f"  {TRACK} ",
        f"spotify:track:{TRACK}",
        f"https://open.spotify.com/track/{TRACK}",
        f"https://open.spotify.com/track/{TRACK}?si=4f3a9c1b2d",
        f"https://open.spotify.com/intl-de/track/{TRACK}?si=abc",
        f"http://open.spotify.com/intl-pt-br/track/{TRACK}",
    ],
)
def test_every_spelling_of_a_track_gives_its_id(reference):
    assert parse_track_id(reference) == TRACK


@pytest.mark.parametrize(
    "reference",
    [
        "",
        TRACK[:-1],  # 21 characters
        TRACK + "x",  # 23 characters
        f"spotify:album:{TRACK}",
        f"https://open.spotify.com/album/{TRACK}",
        f"https://example.com/track/{TRACK}",
        "2H7PHVdQ3mXqEHXcvclT-0",
    ],
)
def test_anything_else_is_refused_with_the_accepted_spellings(reference):
    with pytest.raises(BadInputError, match="spotify:track:ID"):
        parse_track_id(reference)
