"""TensorFlow settings that must be in the environment before TensorFlow is first imported.

`train` and `score` call `configure()` from their package `__init__` for that reason: it is the
one piece of work moodcast does at import time.
"""

import os


def configure() -> None:
    # oneDNN's reordered float sums change results from one CPU to the next: same seed → same model needs it off.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    # TensorFlow's C++ start-up chatter would bury moodcast's own log lines in cron mail.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
