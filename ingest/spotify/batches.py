"""Batches of IDs: cut a list to an endpoint's limit, and find the one ID a server refuses."""

from collections.abc import Callable, Iterator
from typing import TypeVar

from ingest.spotify.retry import Rejected

T = TypeVar("T")


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
