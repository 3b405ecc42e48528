"""Scoring: predict the mood of every track in a catalog and write the predictions table."""

from moodcast import tensorflow_env

tensorflow_env.configure()
