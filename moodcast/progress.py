"""Progress of a command's long steps: a bar on a terminal, plain log lines or nothing elsewhere.

On a terminal (and without --quiet), rich draws a bar per step on stderr and the log lines print
above the bars (rich's RichHandler, on the bars' console) instead of tearing them. Elsewhere (cron,
pipes) nothing is drawn, so logs stay plain lines; a command whose steps are worth a line each (one
page of a playlist fetched) logs them.
"""

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bars

log = logging.getLogger("moodcast.progress")

# advance(done, total): `done` more items are done; `total` updates the total when it became known (None: as it was).
Advance = Callable[..., None]


class Progress:
    def __init__(self, bars: Bars | None = None, log_steps: bool = False):
        self.bars = bars
        self.log_steps = log_steps

    @contextmanager
    def task(self, description: str, total: int | None, completed: int = 0) -> Iterator[Advance]:
        """Yields advance(done, total=None): call it as items are done."""
        if self.bars is not None:
            task = self.bars.add_task(description, total=total, completed=completed)
            yield lambda done, total=None: self.bars.update(task, advance=done, total=total)
            return
        if not self.log_steps:
            yield lambda done, total=None: None
            return
        log.info("%s: %s", description, f"continuing after {completed} rows" if completed else "starting")
        done_so_far, known_total = completed, total

        def advance(done: int, total: int | None = None) -> None:
            nonlocal done_so_far, known_total
            done_so_far, known_total = done_so_far + done, total if total is not None else known_total
            log.info("%s: %d of %s rows", description, done_so_far, known_total if known_total is not None else "?")

        yield advance


NO_PROGRESS = Progress()


@contextmanager
def progress_display(quiet: bool, log_steps: bool = False) -> Iterator[Progress]:
    """Bars when stderr is a terminal and the command is not quiet; otherwise log lines (if `log_steps`) or nothing."""
    if quiet or not sys.stderr.isatty():
        yield Progress(log_steps=log_steps and not quiet)
        return
    console = Console(stderr=True)
    bars = Bars(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console, transient=True)
    with bars, _logging_on(console):
        yield Progress(bars)


@contextmanager
def _logging_on(console: Console) -> Iterator[None]:
    """While the bars are drawn, the log lines meant for stderr go through a RichHandler on their console."""
    root = logging.getLogger()
    replaced = [handler for handler in root.handlers
                if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stderr, sys.__stderr__)]
    added = [RichHandler(console=console, show_path=False, log_time_format="%Y-%m-%dT%H:%M:%S")
             for _ in replaced]
    for handler, rich_handler in zip(replaced, added, strict=True):
        rich_handler.setLevel(handler.level)
        rich_handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        for log_filter in handler.filters:
            rich_handler.addFilter(log_filter)
        root.removeHandler(handler)
        root.addHandler(rich_handler)
    try:
        yield
    finally:
        for handler, rich_handler in zip(replaced, added, strict=True):
            root.removeHandler(rich_handler)
            root.addHandler(handler)
