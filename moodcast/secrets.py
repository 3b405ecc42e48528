"""Secrets kept out of everything moodcast prints or logs, servers' error text included.

A server may echo what it was sent in an error message (a client secret, an access token);
moodcast prints such messages to the user and logs them. Every secret moodcast holds is
registered here, and `scrub` masks it, in any form it was sent in, in each message and log line.
"""

import base64
import logging
import re

MASK = "***"
# An OAuth bearer token, however it got into a message.
BEARER_TOKEN = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+")
_secrets: set[str] = set()


def register(secret: str, client_id: str | None = None) -> None:
    """Mask `secret` from now on; with `client_id`, also the HTTP Basic form `base64(id:secret)`."""
    _secrets.add(secret)
    if client_id is not None:
        _secrets.add(base64.b64encode(f"{client_id}:{secret}".encode()).decode())


def scrub(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):  # a longer secret may contain a shorter one
        text = text.replace(secret, MASK)
    return BEARER_TOKEN.sub(rf"\g<1>{MASK}", text)


class ScrubbingFilter(logging.Filter):
    """Scrubs each log record's message (its arguments merged in) before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), None
        if record.exc_info:  # a traceback's text may quote the message too
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
