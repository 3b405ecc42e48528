"""`python -m score report [--run ID]`: what a scoring run found, as one HTML page.

Written to `$MOODCAST_HOME/reports/score-run-<ID>.html`, self-contained (pictures inline, no script, nothing
fetched), so cron can mail a link or attach it: the mood mix and its change since the previous run, the
confidence distribution per mood, drift per feature against the model's training data with its warnings,
the model version's evaluation (cross-validation, hold-out, and other curators' labels where
`python -m train evaluate` measured it), and the most and least confident tracks. It reads the published
warehouse (moods.duckdb), so it never makes a stage wait. The confidence and track sections show the
predictions as they are now: for an earlier run (--run), later runs may have changed them.
"""

import base64
import html
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np

from moodcast import settings
from moodcast.atomic import replacing
from moodcast.contract import CLASSES
from moodcast.errors import BadInputError, NotReadyError
from moodcast.warehouse import table_names
from score.drift import PSI_MODERATE, PSI_SIGNIFICANT

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TRACKS_LISTED = 10  # most and least confident tracks shown
CONFIDENCE_BINS = 15  # over 0.25 (four moods equally likely) to 1
COLOURS = {"Calm": "#4c78a8", "Energetic": "#e45756", "Happy": "#f2a93b", "Sad": "#6f5a8e"}
LEVEL_COLOURS = {"none": "#2e7d32", "moderate": "#b26a00", "significant": "#c62828"}


@dataclass(frozen=True)
class RunFacts:
    """Everything the page shows, read from the warehouse."""

    run: dict
    previous_run: int | None  # the last run of the same catalog before it
    later_runs: int  # runs of the same catalog since: they may have changed its predictions
    mix: list[dict]
    previous_mix: dict[str, float]  # mood -> share in the previous run
    drift: list[dict]
    evaluations: list[dict]
    importance: list[dict]
    confidence: dict[str, np.ndarray]  # mood -> tracks per confidence bin
    most_confident: list[dict]
    least_confident: list[dict]


def rows(connection: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None) -> list[dict]:
    cursor = connection.execute(sql, parameters or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def read_facts(connection: duckdb.DuckDBPyConnection, run_id: int | None) -> RunFacts:
    present = table_names(connection)
    if "scoring_runs" not in present:
        raise NotReadyError("there is no scoring run to report on yet: run `python -m score` first")
    if run_id is None:
        (run_id,), = connection.execute("select max(run_id) from scoring_runs").fetchall()
    found = rows(connection, "select * from scoring_runs where run_id = ?", [run_id])
    if not found:
        known = connection.execute("select min(run_id), max(run_id) from scoring_runs").fetchall()[0]
        raise BadInputError(f"there is no scoring run {run_id}: runs are numbered {known[0]} to {known[1]} "
                            "(scoring_runs.run_id)")
    run = found[0]
    version, catalog = run["model_version"], run["catalog"]

    def of_run(table: str, order: str) -> list[dict]:
        return rows(connection, f"select * from {table} where run_id = ? order by {order}", [run_id]) \
            if table in present else []

    previous = connection.execute(
        "select max(run_id) from class_mix join scoring_runs using (run_id) where run_id < ? and catalog = ?",
        [run_id, catalog]).fetchall()[0][0] if "class_mix" in present else None
    previous_mix = {row["mood"]: row["share"] for row in
                    rows(connection, "select mood, share from class_mix where run_id = ?", [previous])} \
        if previous is not None else {}
    confidence = {mood: np.zeros(CONFIDENCE_BINS, int) for mood in CLASSES}
    for mood, bin_, tracks in connection.execute(
            f"select mood, least(floor((confidence - 0.25) / 0.75 * {CONFIDENCE_BINS}), {CONFIDENCE_BINS - 1})::int, "
            "count(*) from predictions where catalog = ? group by all", [catalog]).fetchall():
        confidence[mood][max(bin_, 0)] += tracks
    listed = ("select track_id, track_name, artist_name, mood, confidence from predictions where catalog = ? "
              f"order by confidence {{}}, track_id limit {TRACKS_LISTED}")
    return RunFacts(
        run=run,
        previous_run=previous,
        later_runs=connection.execute("select count(*) from scoring_runs where run_id > ? and catalog = ?",
                                      [run_id, catalog]).fetchall()[0][0],
        mix=of_run("class_mix", "mood"),
        previous_mix=previous_mix,
        drift=of_run("feature_drift", "psi desc"),
        evaluations=rows(connection, "select e.*, r.cv_accuracy_std from model_evaluations e left join model_runs r "
                                     "using (model_version) where model_version = ? order by evaluated_at, "
                                     "evaluated_on", [version]) if "model_evaluations" in present else [],
        importance=rows(connection, "select feature, mean_abs_contribution from model_feature_importance "
                                    "where model_version = ? order by rank", [version])
        if "model_feature_importance" in present else [],
        confidence=confidence,
        most_confident=rows(connection, listed.format("desc"), [catalog]),
        least_confident=rows(connection, listed.format("asc"), [catalog]),
    )


def new_figure(width: float, height: float) -> "Figure":
    """A matplotlib figure, imported here: every scoring run imports this module, few draw (0.3 s saved)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def picture(figure: "Figure", description: str) -> str:
    """The figure as an inline PNG."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(description)}">'


def mix_picture(facts: RunFacts, training: dict[str, float]) -> str:
    figure = new_figure(8, 2.8)
    axes = figure.subplots()
    series = [("training data", training, "#bbbbbb")]
    if facts.previous_mix:
        series.append((f"run {facts.previous_run}", facts.previous_mix, "#8fb3d9"))
    series.append((f"run {facts.run['run_id']} (this run)", {row["mood"]: row["share"] for row in facts.mix},
                   "#1f4e79"))
    width = 0.8 / len(series)
    positions = np.arange(len(CLASSES))
    for i, (label, shares, colour) in enumerate(series):
        bars = axes.bar(positions + (i - (len(series) - 1) / 2) * width,
                        [100 * shares.get(mood, 0) for mood in CLASSES], width, label=label, color=colour)
        axes.bar_label(bars, fmt="%.0f", fontsize=7)
    axes.set_xticks(positions, CLASSES)
    axes.set_ylabel("% of tracks")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    return picture(figure, "mood mix: training data, previous run, this run")


def confidence_picture(facts: RunFacts) -> str:
    if not any(counts.sum() for counts in facts.confidence.values()):
        return "<p>The catalog has no predictions now.</p>"
    figure = new_figure(9, 2.4)
    edges = 0.25 + 0.75 * np.arange(CONFIDENCE_BINS + 1) / CONFIDENCE_BINS
    for axes, mood in zip(figure.subplots(1, len(CLASSES), sharex=True), CLASSES, strict=True):
        counts = facts.confidence[mood]
        axes.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=COLOURS[mood])
        axes.set_title(f"{mood} ({counts.sum():,} tracks)", fontsize=9)
        axes.set_xlabel("confidence", fontsize=8)
        axes.tick_params(labelsize=7)
    return picture(figure, "confidence distribution per mood")


def drift_picture(facts: RunFacts) -> str:
    figure = new_figure(10, 4.2)
    for axes, row in zip(figure.subplots(2, 5).flat, facts.drift, strict=False):
        bins = np.arange(len(row["training_shares"]))
        axes.bar(bins - 0.2, 100 * np.array(row["training_shares"]), 0.4, color="#bbbbbb", label="training")
        axes.bar(bins + 0.2, 100 * np.array(row["catalog_shares"]), 0.4, color="#1f4e79", label="catalog")
        axes.set_title(f"{row['feature']}: PSI {row['psi']:.2f}", fontsize=9, color=LEVEL_COLOURS[row["level"]])
        axes.set_xticks([])
        axes.tick_params(labelsize=7)
    figure.axes[0].legend(fontsize=7)
    figure.supxlabel("the training data's deciles (bins), lowest to highest value", fontsize=8)
    figure.supylabel("% of tracks", fontsize=8)
    return picture(figure, "drift per feature: share of tracks per training decile, training against catalog")


def importance_picture(facts: RunFacts) -> str:
    figure = new_figure(6, 3)
    axes = figure.subplots()
    ranked = facts.importance[::-1]
    axes.barh([row["feature"] for row in ranked], [row["mean_abs_contribution"] for row in ranked], color="#1f4e79")
    axes.set_xlabel("mean |contribution| to the predicted mood's probability (hold-out)", fontsize=8)
    axes.tick_params(labelsize=8)
    axes.grid(axis="x", alpha=0.3)
    return picture(figure, "feature importance on the hold-out")


def table(header: list[str], body: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    lines = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in body)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def number(value: float) -> str:
    """4 significant digits, and whole numbers above 1,000 (a length of 221,791 ms, not 2.218e+05)."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def mix_section(facts: RunFacts, training: dict[str, float]) -> str:
    if not facts.mix:
        return "<p>No mood mix was recorded for this run (scored by an earlier moodcast).</p>"
    body = []
    for row in facts.mix:
        before = facts.previous_mix.get(row["mood"])
        change = "–" if before is None else f"{100 * (row['share'] - before):+.1f} pp"
        body.append([html.escape(row["mood"]), f"{row['tracks']:,}", percent(row["share"]), change,
                     percent(row["training_share"]),
                     "–" if row["mean_confidence"] is None else f"{row['mean_confidence']:.2f}"])
    change = f"change since run {facts.previous_run}" if facts.previous_run else "change (first run of this catalog)"
    return (mix_picture(facts, training)
            + table(["mood", "tracks", "share", change, "training share", "mean confidence"], body))


def drift_section(facts: RunFacts) -> str:
    if not facts.drift:
        return ("<p>No drift was measured for this run: its model has no profile of its training data (trained by an "
                "earlier moodcast), or the run was made before drift was measured.</p>")
    warnings = [row for row in facts.drift if row["level"] == "significant"]
    summary = (f'<p class="warning">{len(warnings)} feature(s) drifted significantly (PSI ≥ {PSI_SIGNIFICANT}): '
               f'{", ".join(html.escape(row["feature"]) for row in warnings)}. The model has seen few tracks like '
               "these: their moods are less reliable.</p>" if warnings else
               f'<p class="ok">No feature drifted significantly: the catalog looks like the training data '
               f"(every PSI below {PSI_SIGNIFICANT}).</p>")
    body = [[html.escape(row["feature"]), f"{row['psi']:.3f}",
             f'<span style="color:{LEVEL_COLOURS[row["level"]]}">{row["level"]}</span>',
             number(row["training_mean"]), number(row["catalog_mean"]), percent(row["outside_training_range"])]
            for row in facts.drift]
    first = facts.drift[0]
    if first.get("tracks_measured") and first["tracks_measured"] < first["tracks"]:
        summary += (f'<p class="note">Measured on a random sample of {first["tracks_measured"]:,} of the catalog\'s '
                    f'{first["tracks"]:,} tracks.</p>')
    return (summary + drift_picture(facts)
            + table(["feature", "PSI", "shift", "training mean", "catalog mean", "outside training range"], body)
            + f"<p class=\"note\">Population stability index over the training data's deciles: below {PSI_MODERATE} "
              f"no shift, {PSI_MODERATE}–{PSI_SIGNIFICANT} moderate, from {PSI_SIGNIFICANT} significant.</p>")


def evaluation_section(facts: RunFacts) -> str:
    if not facts.evaluations:
        return "<p>The warehouse has no evaluation of this model version.</p>"
    names = {"cross_validation": "cross-validation (out of fold)", "holdout": "hold-out"}
    body = [[html.escape(names.get(row["evaluated_on"], f"labelled file {row['evaluated_on']}")),
             f"{row['tracks']:,}",
             percent(row["accuracy"]) + (f" ± {100 * row['cv_accuracy_std']:.1f}"
                                         if row["evaluated_on"] == "cross_validation" and row["cv_accuracy_std"]
                                         else ""),
             percent(row["balanced_accuracy"]), f"{row['macro_f1']:.3f}", f"{row['ece']:.3f}",
             f"{row['mean_confidence']:.3f}"]
            for row in facts.evaluations]
    others = "" if any(row["labels_file"] for row in facts.evaluations) else (
        '<p class="note">Not yet measured on other curators\' labels: <code>python -m train evaluate --labels FILE'
        "</code> records it here. Expect lower accuracy there than in cross-validation.</p>")
    importance = ("<h3>What it looks at</h3><p>Each feature's mean contribution to the predicted mood's probability "
                  "on the hold-out (exact Shapley values against the training mean; "
                  "<code>python -m score track ID --explain</code> gives one track's).</p>"
                  + importance_picture(facts)) if facts.importance else ""
    return (table(["measured on", "tracks", "accuracy", "balanced accuracy", "macro-F1", "calibration error (ECE)",
                   "mean confidence"], body) + others + importance)


def tracks_table(listed: list[dict]) -> str:
    if not listed:
        return "<p>The catalog has no predictions now.</p>"
    return table(["track", "artist", "mood", "confidence"], [
        [html.escape(row["track_name"] or row["track_id"]), html.escape(row["artist_name"] or "–"),
         html.escape(row["mood"]), f"{row['confidence']:.3f}"] for row in listed])


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1000px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
code { background: #f3f3f3; padding: 0 0.25em; }
.meta { color: #555; } .note { color: #555; font-size: 0.9em; }
.warning { background: #fdecea; border-left: 4px solid #c62828; padding: 0.5em 0.8em; }
.ok { background: #edf7ed; border-left: 4px solid #2e7d32; padding: 0.5em 0.8em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { padding: 0.3em 0.8em; border-bottom: 1px solid #e5e5e5; text-align: left; }
th { background: #f5f5f5; } td:not(:first-child) { font-variant-numeric: tabular-nums; }
img { max-width: 100%; display: block; margin: 0.5em 0; }
.columns { display: flex; gap: 2em; flex-wrap: wrap; } .columns > div { flex: 1; min-width: 420px; }
"""


def render(facts: RunFacts, training: dict[str, float]) -> str:
    run = facts.run
    title = f"moodcast scoring run {run['run_id']}"
    meta = (f"{run['scored_at']:%Y-%m-%d %H:%M %Z} · catalog {html.escape(run['catalog'])} · model "
            f"{html.escape(run['model_version'])} · {run['scored']:,} tracks scored, {run['skipped']:,} unchanged, "
            f"{run['removed']:,} removed · {html.escape(run['engine'])}")
    now = (f'<p class="note">As the predictions are now: {facts.later_runs} later run(s) of this catalog may have '
           "changed them since.</p>" if facts.later_runs else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title><style>{STYLE}</style></head>
<body>
<h1>{title}</h1>
<p class="meta">{meta}</p>
<h2 id="mix">Mood mix</h2>
{mix_section(facts, training)}
<h2 id="confidence">Confidence per mood</h2>
{now}{confidence_picture(facts)}
<h2 id="drift">Drift against the training data</h2>
{drift_section(facts)}
<h2 id="model">Model {html.escape(run['model_version'])}</h2>
{evaluation_section(facts)}
<h2 id="tracks">Most and least confident tracks</h2>
{now}<div class="columns"><div><h3>Most confident</h3>{tracks_table(facts.most_confident)}</div>
<div><h3>Least confident</h3>{tracks_table(facts.least_confident)}</div></div>
</body></html>
"""


def training_mix(facts: RunFacts) -> dict[str, float]:
    return {row["mood"]: row["training_share"] for row in facts.mix}


def write_report(run_id: int | None = None) -> Path:
    """Write the run's report (default: the latest run's); its path."""
    path = settings.database_path()
    if not path.exists():
        raise NotReadyError(f"there is no published warehouse at {path} yet: run `python -m score` first")
    with duckdb.connect(str(path), read_only=True) as connection:
        facts = read_facts(connection, run_id)
    target = settings.reports_dir() / f"score-run-{facts.run['run_id']}.html"
    with replacing(target, per_process=True) as temporary:
        temporary.write_text(render(facts, training_mix(facts)))
    return target
