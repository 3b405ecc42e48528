"""Training: fit the mood classifier on training_examples and export a model version."""

from moodcast import tensorflow_env

tensorflow_env.configure()
