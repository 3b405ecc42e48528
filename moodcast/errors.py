"""Errors a user can act on, and the exit codes cron sees for them."""

import errno
import os

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2  # the input (a file, an argument, a row) is wrong: fix it and rerun
EXIT_NOT_READY = 3  # an earlier stage has not run yet: run it first
EXIT_DATA_TEST_FAILED = 65  # a dbt data test found bad rows (EX_DATAERR): the marts keep their last good build
EXIT_UNAVAILABLE = 69  # a remote service is rate-limiting or failing (EX_UNAVAILABLE): run it again later
EXIT_CANNOT_WRITE = 74  # a file could not be written: read-only, no space left, no permission (EX_IOERR)
EXIT_LOCKED = 75  # another process holds the warehouse (EX_TEMPFAIL): retry later


class MoodcastError(Exception):
    """An error with a message meant for the user: what was wrong, where, and what to do."""

    exit_code = EXIT_INTERNAL


class BadInputError(MoodcastError):
    exit_code = EXIT_BAD_INPUT


class NotReadyError(MoodcastError):
    exit_code = EXIT_NOT_READY


class WarehouseLockedError(MoodcastError):
    exit_code = EXIT_LOCKED


class ServiceUnavailableError(MoodcastError):
    exit_code = EXIT_UNAVAILABLE


class CannotWriteError(MoodcastError):
    exit_code = EXIT_CANNOT_WRITE


# Why a write can fail that no rerun fixes until someone acts, and what to do about it.
STORAGE_CAUSES = {
    errno.ENOSPC: "free some space on that disk",
    errno.EDQUOT: "free some space on that disk, or raise the quota",
    errno.EFBIG: "raise the file size limit (ulimit -f), or free some space",
    errno.EROFS: "make it writable, or point MOODCAST_HOME at a writable folder",
    errno.EACCES: "give this user write permission there, or point MOODCAST_HOME at a writable folder",
    errno.EPERM: "give this user write permission there, or point MOODCAST_HOME at a writable folder",
}


def storage_failure(error: BaseException, where: object = "a file") -> CannotWriteError | None:
    """The error as one line naming the path (`where`, if the error does not) and the cause, if it is a write
    the disk refused; else None. DuckDB raises its own exceptions for these, with the system's message in their text."""
    if isinstance(error, OSError) and error.errno in STORAGE_CAUSES:
        cause, where = error.errno, error.filename or where
        return CannotWriteError(f"cannot write {where}: {os.strerror(cause)}; {STORAGE_CAUSES[cause]}, "
                                "then run this again (nothing half-written was kept)")
    text = str(error)
    cause = next((code for code in STORAGE_CAUSES if os.strerror(code).lower() in text.lower()), None)
    if cause is None or isinstance(error, OSError):
        return None
    lines = [line.strip() for line in text.strip().splitlines()]
    culprit = next(line for line in lines if os.strerror(cause).lower() in line.lower())
    summary = culprit if culprit == lines[0] else f"{lines[0]}: {culprit}"
    return CannotWriteError(f"{summary}; {STORAGE_CAUSES[cause]}, then run this again (nothing half-written was kept)")
