"""Files written whole or not at all: whoever reads the landing zone, the exports, the registry or the
published warehouse sees the previous file or the new one, never one half-written."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(target: Path, per_process: bool = False) -> Iterator[Path]:
    """A temporary path beside `target` to write the new file to: renamed onto target when the block succeeds,
    removed when it fails. The name is the same for every run, so a run killed half-way leaves no more than one
    leftover, which the next removes; `per_process` names it after this process, for files that processes not
    holding the warehouse's lock may write at once."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp" if per_process else f".{target.name}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
