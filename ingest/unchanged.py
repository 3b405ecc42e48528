"""Input files that are unchanged since they were landed, known without reading them again.

cron hands the nightly run every drop ever delivered (`/data/drops/*.parquet`): telling the landed ones by their
sha256 reads them all, every night (a year of 12 MB drops is 4 GB to hash). So each landing records its input
file's status (device, inode, size, modification and change times) and the mapping it was read with, beside the
warehouse: an input that still has the recorded status has the content it had then, and is not read.

A status is recorded only for a file that nothing changed during the QUIET_SECONDS before it was read, nor while
it was: a write within a timestamp's granularity of the last one could leave its times as they were (git's index
guards against the same). A record is a cache: without one, or with one that cannot be read, the file is hashed
as before. It also keeps the landing's row counts, so that an unchanged input costs a stat and this small file,
whatever the landing zone holds.
"""

import hashlib
import json
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from moodcast import settings
from moodcast.atomic import replacing

QUIET_SECONDS = 2


@dataclass(frozen=True)
class InputStatus:
    key: str  # what a record compares: the file's device, inode, size and times, and the mapping
    changed_ns: int  # the file's last change (ctime)
    taken_ns: int  # when the status was taken


@dataclass(frozen=True)
class Landing:
    name: str  # of the landed files, under landing/files and landing/file_rejects
    accepted: int
    rejected: int


def records_dir() -> Path:
    return settings.work_database_path().parent / "landed_inputs"


def record_path(source: Path) -> Path:
    return records_dir() / f"{hashlib.sha256(str(source).encode()).hexdigest()[:32]}.json"


def status_of(source: Path, mapping_fingerprint: str) -> InputStatus | None:
    """The status of source, a regular file; None for anything else (the hashing that follows says what)."""
    taken_ns = time.time_ns()
    try:
        status = source.stat()
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode):
        return None
    key = (f"{status.st_dev}:{status.st_ino}:{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}:"
           f"{mapping_fingerprint}")
    return InputStatus(key, status.st_ctime_ns, taken_ns)


def landed(source: Path, status: InputStatus | None) -> Landing | None:
    """How source was landed, if it still has the status recorded then."""
    if status is None:
        return None
    try:
        record = json.loads(record_path(source).read_text())
        if record["source"] == str(source) and record["status"] == status.key:
            return Landing(str(record["landed"]), int(record["accepted"]), int(record["rejected"]))
    except (OSError, ValueError, TypeError, KeyError):
        pass  # no record, or not one this moodcast writes: the file is hashed
    return None


def remember(source: Path, status: InputStatus | None, mapping_fingerprint: str, landing: Landing) -> None:
    """Record that source, which had `status` before it was read, is landed as `landing` says: if it still has
    that status, and nothing had changed it for QUIET_SECONDS before it was taken. Only once the landing is whole
    (what earlier versions of source landed removed): a recorded input is left alone."""
    if status is None or status.changed_ns > status.taken_ns - QUIET_SECONDS * 1_000_000_000:
        return
    now = status_of(source, mapping_fingerprint)
    if now is None or now.key != status.key:
        return
    records_dir().mkdir(parents=True, exist_ok=True)
    with replacing(record_path(source)) as temporary:
        temporary.write_text(json.dumps({"source": str(source), "status": status.key, "landed": landing.name,
                                         "accepted": landing.accepted, "rejected": landing.rejected}))
