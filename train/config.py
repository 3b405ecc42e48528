"""Every training knob, in one place. Each is a `python -m train` option of the same name.

Three presets: `default`, moodcast's model (log-scaled and standardised features, an ensemble of
five small, strongly regularised networks averaged inside one exported model, its knobs chosen on
another curator's labels as well as on cross-validation: see docs/model.md); `ensemble`, the
default until 2026-12 (wider, unregularised: best in cross-validation, overconfident on other
curators' playlists); and `article`, the network of the article moodcast grew from (min-max
scaling, one Dense(8) network, 300 epochs, batch 200).
"""

import argparse
from dataclasses import dataclass, field, fields, replace

from moodcast.errors import BadInputError

PREPROCESSING = ("log_standardize", "min_max")


def knob(default, help_text: str):
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class TrainConfig:
    preprocessing: str = knob("log_standardize", "feature scaling inside the model: log_standardize (log of "
                              "skewed features, then standardised) or min_max (the article's)")
    members: int = knob(5, "networks in the ensemble, trained together and averaged in the exported model")
    hidden_units: int = knob(16, "width of each network's one hidden ReLU layer; 0: no hidden layer (a softmax "
                             "regression)")
    epochs: int = knob(100, "passes over the training data")
    batch_size: int = knob(64, "examples per gradient step")
    learning_rate: float = knob(0.01, "Adam's step size")
    l2: float = knob(0.003, "L2 penalty on every Dense layer's weights: larger keeps the model simpler, and its "
                     "confidence lower on tracks unlike its training data")
    dropout: float = knob(0.3, "share of each network's hidden units dropped at random in every training step "
                          "(none when scoring)")
    holdout_fraction: float = knob(0.2, "share of examples held out to test the exported model")
    cv_folds: int = knob(10, "folds of the stratified cross-validation")
    seed: int = knob(15, "one seed for the splits, the initial weights and the shuffling")

    def __post_init__(self) -> None:
        problems = [
            *(f"--{name.replace('_', '-')} must be at least 1"
              for name in ("members", "epochs", "batch_size") if getattr(self, name) < 1),
            *(["--hidden-units must be 0 or more"] if self.hidden_units < 0 else []),
            *(["--dropout needs a hidden layer (--hidden-units 1 or more)"]
              if self.dropout and not self.hidden_units else []),
            *([f"--preprocessing must be one of {', '.join(PREPROCESSING)}"]
              if self.preprocessing not in PREPROCESSING else []),
            *(["--learning-rate must be positive"] if self.learning_rate <= 0 else []),
            *(["--l2 must be 0 or more"] if self.l2 < 0 else []),
            *(["--dropout must be at least 0 and below 1"] if not 0 <= self.dropout < 1 else []),
            *(["--holdout-fraction must be between 0 and 1"] if not 0 < self.holdout_fraction < 1 else []),
            *(["--cv-folds must be at least 2"] if self.cv_folds < 2 else []),
        ]
        if problems:
            raise BadInputError("; ".join(problems))


PRESETS = {
    "default": TrainConfig(),
    # moodcast's default until 2026-12: best in cross-validation, overconfident on other curators' playlists.
    "ensemble": TrainConfig(members=5, hidden_units=32, epochs=60, batch_size=64, learning_rate=0.003, l2=0.0,
                            dropout=0.0),
    "article": TrainConfig(preprocessing="min_max", members=1, hidden_units=8, epochs=300, batch_size=200,
                           learning_rate=0.001, l2=0.0, dropout=0.0),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=PRESETS, default="default",
                        help="the knobs to start from; options below override them (default: %(default)s)")
    for knob_field in fields(TrainConfig):
        article = getattr(PRESETS["article"], knob_field.name)
        parser.add_argument(
            f"--{knob_field.name.replace('_', '-')}",
            type=knob_field.type,
            help=f"{knob_field.metadata['help']} (default: {knob_field.default}"
            + (f"; article: {article})" if article != knob_field.default else ")"),
        )


def from_arguments(args: argparse.Namespace, preset: str | None = None) -> TrainConfig:
    """The preset (the one named, else --preset) with every knob given on the command line applied."""
    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name) is not None}
    return replace(PRESETS[preset or args.preset], **given)
