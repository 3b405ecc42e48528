"""Progress while fetching: a bar when stderr is a terminal, plain log lines otherwise (cron, pipes)."""

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

log = logging.getLogger(__name__)


class Progress(Protocol):
    def start(self, description: str, total: int | None, completed: int) -> None: ...
    def advance(self, count: int, total: int | None) -> None: ...
    def finish(self) -> None: ...


class LogProgress:
    """One line per step: what, how many rows so far, out of how many."""

    def __init__(self) -> None:
        self.description, self.completed = "", 0

    def start(self, description: str, total: int | None, completed: int) -> None:
        self.description, self.completed = description, completed
        log.info("%s: %s", description, f"continuing after {completed} rows" if completed else "fetching")

    def advance(self, count: int, total: int | None) -> None:
        self.completed += count
        log.info("%s: %d of %s rows", self.description, self.completed, total if total is not None else "?")

    def finish(self) -> None:
        self.description = ""


class BarProgress:
    """A rich progress bar per unit; log lines print above the bars."""

    def __init__(self, bars: RichProgress) -> None:
        self.bars = bars
        self.task = None

    def start(self, description: str, total: int | None, completed: int) -> None:
        self.task = self.bars.add_task(description, total=total, completed=completed)

    def advance(self, count: int, total: int | None) -> None:
        self.bars.update(self.task, advance=count, total=total)

    def finish(self) -> None:
        self.task = None


@contextmanager
def progress_display() -> Iterator[Progress]:
    if not sys.stderr.isatty():
        yield LogProgress()
        return
    console = Console(stderr=True)
    bars = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console)
    with bars, _logging_above():
        yield BarProgress(bars)


@contextmanager
def _logging_above() -> Iterator[None]:
    """Send log lines meant for stderr through the live display (it stands in for sys.stderr while it runs),
    so they print above the bars instead of tearing them."""
    handlers = [h for h in logging.getLogger().handlers
                if isinstance(h, logging.StreamHandler) and h.stream is sys.__stderr__]
    for handler in handlers:
        handler.setStream(sys.stderr)
    try:
        yield
    finally:
        for handler in handlers:
            handler.setStream(sys.__stderr__)
