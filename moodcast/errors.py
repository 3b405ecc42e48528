"""Errors a user can act on, and the exit codes cron sees for them."""

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
