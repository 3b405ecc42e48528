"""Every training knob, in one place. Each is a `python -m train` option of the same name."""

import argparse
from dataclasses import dataclass, field, fields

from moodcast.errors import BadInputError


def knob(default, help_text: str):
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = knob(300, "passes over the training data (the article's 300)")
    batch_size: int = knob(200, "examples per gradient step (the article's 200)")
    hidden_units: int = knob(8, "width of the one hidden ReLU layer (the article's 8)")
    learning_rate: float = knob(0.001, "Adam's step size (Keras's default, as in the article)")
    holdout_fraction: float = knob(0.2, "share of examples held out to test the exported model")
    cv_folds: int = knob(10, "folds of the stratified cross-validation")
    seed: int = knob(15, "one seed for the splits, the initial weights and the shuffling")

    def __post_init__(self) -> None:
        problems = [
            *(f"--{name.replace('_', '-')} must be at least 1" for name in ("epochs", "batch_size", "hidden_units")
              if getattr(self, name) < 1),
            *(["--learning-rate must be positive"] if self.learning_rate <= 0 else []),
            *(["--holdout-fraction must be between 0 and 1"] if not 0 < self.holdout_fraction < 1 else []),
            *(["--cv-folds must be at least 2"] if self.cv_folds < 2 else []),
        ]
        if problems:
            raise BadInputError("; ".join(problems))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for knob_field in fields(TrainConfig):
        parser.add_argument(
            f"--{knob_field.name.replace('_', '-')}",
            type=knob_field.type,
            default=knob_field.default,
            help=f"{knob_field.metadata['help']} (default: {knob_field.default})",
        )


def from_arguments(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(**{knob_field.name: getattr(args, knob_field.name) for knob_field in fields(TrainConfig)})
