"""A progress bar on stderr when it is a terminal, and nothing otherwise: cron mail stays clean."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn


class ProgressBar:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    @classmethod
    def on_terminal(cls, quiet: bool) -> "ProgressBar":
        return cls(enabled=not quiet and sys.stderr.isatty())

    def _bar(self) -> Progress:
        return Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                        transient=True)

    @contextmanager
    def rows(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        """Yields advance(rows): call it as rows are done."""
        if not self.enabled:
            yield lambda rows: None
            return
        with self._bar() as bar:
            task = bar.add_task(description, total=total)
            yield lambda rows: bar.advance(task, rows)


NO_PROGRESS = ProgressBar(enabled=False)
