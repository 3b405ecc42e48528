"""The retry policy every Spotify and ReccoBeats request goes through, and batches of IDs.

spotipy gets plain requests sessions (see `client`), so every failure reaches this module with its
status and headers, and moodcast alone decides what happens next:
- 429: wait out `Retry-After`, up to a cap; a longer wait stops the command, saying when to retry;
- 5xx, timeouts, refused or dropped connections: exponential backoff with jitter, a bounded number of times;
- 401: fetch a new access token once, then try again;
- 403: this app may not use the endpoint: `Unavailable`, never retried;
- 400/404: this request (usually one ID) is wrong: `Rejected`, for the caller to record before carrying on;
  `fetch_splitting` halves a refused batch until each refused ID is alone.
"""

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import requests
from spotipy.exceptions import SpotifyException, SpotifyOauthError

from moodcast import settings
from moodcast.errors import BadInputError, MoodcastError, ServiceUnavailableError

log = logging.getLogger(__name__)
T = TypeVar("T")
CREDENTIAL_VARIABLES = f"{settings.SPOTIFY_CLIENT_ID_VARIABLE} and {settings.SPOTIFY_CLIENT_SECRET_VARIABLE}"

# What a request can raise when the server fails or refuses it; anything else is a bug and propagates.
REQUEST_ERRORS = (SpotifyException, SpotifyOauthError, requests.HTTPError, requests.Timeout, requests.ConnectionError)


@dataclass(frozen=True)
class Failure:
    status: int | None  # None: no answer at all (a timeout, a refused or dropped connection)
    message: str
    retry_after: float | None = None  # seconds, from the Retry-After header
    from_token_endpoint: bool = False

    def describe(self) -> str:
        return self.message if self.status is None else f"{self.status} {self.message}"


class Unavailable(Exception):
    """403: this app may not use the endpoint (audio-features for new apps, playlists it does not own)."""

    def __init__(self, what: str, failure: Failure):
        super().__init__(f"{what}: {failure.describe()}")
        self.failure = failure


class Rejected(Exception):
    """400 or 404: the server refuses this request, usually because of one unknown or invalid ID."""

    def __init__(self, what: str, failure: Failure):
        super().__init__(f"{what}: {failure.describe()}")
        self.failure = failure


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    value = (headers or {}).get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date or garbage: back off as for a server error instead


def failure_of(error: Exception) -> Failure:
    """The status, message and Retry-After of one of REQUEST_ERRORS."""
    if isinstance(error, SpotifyOauthError):
        # spotipy keeps neither the status nor the headers: the HTTPError it handled has them.
        response = getattr(error.__context__, "response", None)
        status = response.status_code if response is not None else None
        headers = response.headers if response is not None else None
        message = error.error_description or error.error or str(error)
        return Failure(status, message, retry_after_seconds(headers), from_token_endpoint=True)
    if isinstance(error, SpotifyException):
        # spotipy's message is "URL:\n message"; callers say which request it was.
        message = error.msg.rsplit(":\n", 1)[-1].strip()
        return Failure(error.http_status, message, retry_after_seconds(error.headers))
    if isinstance(error, requests.HTTPError) and error.response is not None:
        response = error.response
        return Failure(response.status_code, response.reason or "error", retry_after_seconds(response.headers))
    return Failure(None, f"no answer ({type(error).__name__})")


@dataclass
class RetryPolicy:
    max_retry_after_s: float = settings.DEFAULT_MAX_RETRY_AFTER_S  # the longest Retry-After waited out
    attempts: int = 6  # tries per request on 429, 5xx and timeouts, the first included
    first_backoff_s: float = 1.0  # the wait after the first 5xx or timeout; it doubles with each one …
    max_backoff_s: float = 30.0  # … up to this
    sleep: Callable[[float], None] = time.sleep  # tests pass a recorder, so they never really wait
    jitter: random.Random = field(default_factory=random.Random)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def call(
        self, service: str, what: str, request: Callable[[], T], renew_token: Callable[[], None] | None = None
    ) -> T:
        """`request()`, retried as the module docstring says. `what` names it in messages ("track ID")."""
        attempt, token_renewed, renew_now = 1, False, False
        while True:
            try:
                if renew_now:
                    renew_now = False
                    renew_token()
                return request()
            except REQUEST_ERRORS as error:
                failure = failure_of(error)
            if failure.status == 401 and not failure.from_token_endpoint and renew_token and not token_renewed:
                log.info("%s: the access token was refused (%s); fetching a new one", service, failure.message)
                token_renewed = renew_now = True
                continue
            wait = self.wait_before_retry(service, what, failure, attempt)
            log.warning("%s: %s for %s; retrying in %.1f s (attempt %d of %d)",
                        service, failure.describe(), what, wait, attempt + 1, self.attempts)
            self.sleep(wait)
            attempt += 1

    def wait_before_retry(self, service: str, what: str, failure: Failure, attempt: int) -> float:
        """How long to wait before trying `what` again; raise when it must not be tried again."""
        status = failure.status
        if failure.from_token_endpoint and status in (400, 401):
            raise BadInputError(
                f"Spotify refused the app's credentials ({failure.describe()}): check {CREDENTIAL_VARIABLES} "
                "against your app at https://developer.spotify.com/dashboard."
            )
        if status == 401:
            raise BadInputError(
                f"Spotify refused a freshly issued access token for {what} ({failure.message}): check that "
                f"{CREDENTIAL_VARIABLES} belong to an app that is still active."
            )
        if status == 403:
            raise Unavailable(what, failure)
        if status in (400, 404):
            raise Rejected(what, failure)
        if status == 429:
            wait = failure.retry_after if failure.retry_after is not None else self.backoff(attempt)
            if wait > self.max_retry_after_s:
                retry_at = (self.now() + timedelta(seconds=wait)).astimezone()
                raise ServiceUnavailableError(
                    f"{service} is rate-limiting this app: it asked to wait {wait:.0f} s before {what}, longer than "
                    f"the {self.max_retry_after_s:.0f} s this command may wait (--max-retry-after). "
                    f"Run it again after {retry_at.isoformat(timespec='seconds')}."
                )
        elif status is None or status >= 500:
            wait = self.backoff(attempt)
        else:
            raise MoodcastError(f"{service} answered {failure.describe()} for {what}, which moodcast does not expect.")
        if attempt >= self.attempts:
            raise ServiceUnavailableError(
                f"{service} kept failing for {what}: {failure.describe()}, {self.attempts} times in a row. "
                "It may be down or overloaded: run the command again later."
            )
        return wait

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: between half and all of the capped doubling delay."""
        delay = min(self.max_backoff_s, self.first_backoff_s * 2 ** (attempt - 1))
        return delay / 2 + self.jitter.uniform(0, delay / 2)


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fetch_splitting(
    fetch: Callable[[list[str]], dict[str, T | None]], ids: list[str]
) -> tuple[dict[str, T | None], dict[str, str]]:
    """`fetch(ids)`; when the server refuses the batch (400/404), halve it until each refused ID is alone.

    Returns what was fetched (None where the server has nothing for an ID) and, per refused ID, the reason.
    """
    try:
        return fetch(ids), {}
    except Rejected as error:
        if len(ids) == 1:
            return {}, {ids[0]: error.failure.describe()}
    half = len(ids) // 2
    fetched, refused = fetch_splitting(fetch, ids[:half])
    more_fetched, more_refused = fetch_splitting(fetch, ids[half:])
    return fetched | more_fetched, refused | more_refused
