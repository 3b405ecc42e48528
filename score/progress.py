"""A progress bar on stderr when it is a terminal, and nothing otherwise: cron mail stays clean."""

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

POLL_S = 0.2  # how often a running query's progress is read


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

    @contextmanager
    def query(self, description: str, connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """Follow the query the block runs on `connection`, as DuckDB reports its progress."""
        if not self.enabled:
            yield
            return
        finished = threading.Event()
        with self._bar() as bar:
            task = bar.add_task(description, total=100)

            def follow() -> None:
                while not finished.wait(POLL_S):
                    percent = connection.query_progress()
                    if percent >= 0:
                        bar.update(task, completed=percent)

            follower = threading.Thread(target=follow, daemon=True)
            follower.start()
            try:
                yield
            finally:
                finished.set()
                follower.join()


NO_PROGRESS = ProgressBar(enabled=False)
