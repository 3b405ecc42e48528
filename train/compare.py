"""`python -m train compare`: moodcast's model against the article's network, the earlier default and
two scikit-learn baselines, on the same repeated stratified folds of `training_examples` — and on
labels that are not the training data's.

Every candidate sees exactly the same training and test rows, so differences between them are
paired fold by fold: the fold-to-fold spread (a row of a 69-row fold is worth 1.4 points) mostly
cancels out. Nothing is tuned here: each candidate's knobs are fixed before the folds are drawn.

Cross-validation within one curator's playlists overstates what a model does on another curator's,
so two more measures sit next to it: every candidate fitted on all of `training_examples` and scored
on each `--external` labelled file, and, when `training_examples` holds several sources, each source's
own tracks predicted by a model fitted on the other sources (leave-one-source-out).
"""

import time
from dataclasses import dataclass, replace

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from train.config import PRESETS, TrainConfig
from train.data import Examples
from train.evaluate import Evaluation, FitPredict, Split, cross_validate, evaluate
from train.labelled_file import LabelledFile
from train.model import log_features
from train.training import keras_fit_predict

BASELINE = "article network"


@dataclass(frozen=True)
class Comparison:
    name: str
    fold_accuracies: np.ndarray  # one per fold of every repeat, in the same order for every candidate
    fold_macro_f1: np.ndarray
    repeat_eces: np.ndarray  # out-of-fold ECE of each repeat
    seconds_per_fit: float
    external: dict[str, Evaluation]  # labelled file → the candidate fitted on every example, measured on it
    held_out_sources: Evaluation | None  # each source's own tracks, predicted without that source; None: one source


def sklearn_fit_predict(make_estimator) -> FitPredict:
    def fit_predict(features: np.ndarray, labels: np.ndarray, to_predict: np.ndarray) -> np.ndarray:
        return make_estimator().fit(features, labels).predict_proba(to_predict)

    return fit_predict


def candidates(config: TrainConfig, max_epochs: int | None = None) -> dict[str, FitPredict]:
    """Every candidate; `max_epochs` caps each network's epochs (a quick check that the comparison runs)."""
    logged = log_features()  # the Keras models' own log scaling, for the logistic regression too

    def network(knobs: TrainConfig) -> FitPredict:
        return keras_fit_predict(replace(knobs, epochs=min(knobs.epochs, max_epochs or knobs.epochs)))

    return {
        BASELINE: network(PRESETS["article"]),
        "moodcast default": network(config),
        "earlier default (ensemble)": network(PRESETS["ensemble"]),
        "softmax regression (Keras, L2)": network(replace(
            config, members=1, hidden_units=0, dropout=0.0, l2=0.007, epochs=200)),
        "logistic regression": sklearn_fit_predict(
            lambda: make_pipeline(FunctionTransformer(lambda features: np.asarray(logged(features))), StandardScaler(),
                                  LogisticRegression(C=0.1, max_iter=2000))
        ),
        "gradient boosting": sklearn_fit_predict(lambda: GradientBoostingClassifier(random_state=config.seed)),
    }


def held_out_source_splits(examples: Examples) -> list[Split]:
    """One split per source: its own tracks (labelled by it alone) to test, every other track to fit."""
    sources = sorted({name for names in examples.source_names for name in names})
    if len(sources) < 2:
        return []
    splits = []
    for source in sources:
        own = np.array([names == (source,) for names in examples.source_names])
        if own.any() and not own.all():
            splits.append((np.flatnonzero(~own), np.flatnonzero(own)))
    return splits


def held_out_sources(examples: Examples, fit_predict: FitPredict) -> Evaluation | None:
    splits = held_out_source_splits(examples)
    if not splits:
        return None
    tested = np.concatenate([test for _, test in splits])
    predicted = np.concatenate([
        fit_predict(examples.features[train], examples.labels[train], examples.features[test]) for train, test in splits
    ])
    return evaluate(examples.labels[tested], predicted)


def compare(examples: Examples, config: TrainConfig, repeats: int, externals: list[LabelledFile] = (),
            compared: dict[str, FitPredict] | None = None) -> list[Comparison]:
    """Every candidate (by default, `candidates(config)`) on the same folds, files and held-out sources."""
    splitter = RepeatedStratifiedKFold(n_splits=config.cv_folds, n_repeats=repeats, random_state=config.seed)
    splits = list(splitter.split(examples.features, examples.labels))
    repeat_splits = [splits[r * config.cv_folds:(r + 1) * config.cv_folds] for r in range(repeats)]
    results = []
    for name, fit_predict in (compared or candidates(config)).items():
        started = time.perf_counter()
        runs = [cross_validate(examples, folds, fit_predict) for folds in repeat_splits]
        seconds_per_fit = (time.perf_counter() - started) / len(splits)
        external = {}
        if externals:
            everything = np.concatenate([labelled.features for labelled in externals])
            predicted = np.split(fit_predict(examples.features, examples.labels, everything),
                                 np.cumsum([len(labelled) for labelled in externals])[:-1])
            external = {labelled.name: evaluate(labelled.labels, probabilities)
                        for labelled, probabilities in zip(externals, predicted, strict=True)}
        results.append(Comparison(
            name,
            np.concatenate([run.fold_accuracies for run in runs]),
            np.concatenate([run.fold_macro_f1 for run in runs]),
            np.array([run.out_of_fold.ece for run in runs]),
            seconds_per_fit,
            external,
            held_out_sources(examples, fit_predict),
        ))
    return results


def measured_elsewhere(result: Comparison) -> list[Evaluation]:
    return [*result.external.values(), *([result.held_out_sources] if result.held_out_sources else [])]


def transfer_cell(evaluation: Evaluation) -> str:
    return (f"{100 * evaluation.accuracy:.1f} % · {100 * evaluation.balanced_accuracy:.1f} % · "
            f"{evaluation.ece:.3f} · {evaluation.mean_confidence:.2f}")


def comparison_table(results: list[Comparison]) -> str:
    baseline = next(result for result in results if result.name == BASELINE)
    transfer = [*baseline.external, *(["held-out sources"] if baseline.held_out_sources else [])]
    lines = [
        "| model | accuracy (mean ± sd) | macro-F1 (mean ± sd) | ECE | Δ accuracy vs article, paired "
        "(mean ± se; folds won/lost) | "
        + "".join(f"{name}: accuracy · balanced · ECE · confidence | " for name in transfer) + "s per fit |",
        "|---|---|---|---|---|" + "---|" * len(transfer) + "---|",
    ]
    for result in results:
        difference = result.fold_accuracies - baseline.fold_accuracies
        paired = "—" if result is baseline else (
            f"{100 * difference.mean():+.2f} ± {100 * difference.std(ddof=1) / np.sqrt(len(difference)):.2f} "
            f"({(difference > 0).sum()}/{(difference < 0).sum()})"
        )
        lines.append(
            f"| {result.name} | {100 * result.fold_accuracies.mean():.2f} % ± {100 * result.fold_accuracies.std():.2f} "
            f"| {result.fold_macro_f1.mean():.3f} ± {result.fold_macro_f1.std():.3f} "
            f"| {100 * result.repeat_eces.mean():.1f} % | {paired} | "
            + "".join(f"{transfer_cell(e)} | " for e in measured_elsewhere(result))
            + f"{result.seconds_per_fit:.2f} |"
        )
    return "\n".join(lines)
