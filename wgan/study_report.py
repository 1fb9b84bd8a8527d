"""The report of a :mod:`wgan.study`: curves with mean and spread across seeds, sample grids side
by side, the W-estimate / quality correlation per variant, and the variants compared two ways:
at equal generator steps (curves against the step, a table at the last step every run
evaluated) and at an equal wall-clock budget (every run's curves against its training seconds,
a table of the scores at the budget).  Training seconds are the clock of :mod:`wgan.run`
(``train_seconds`` in metrics.jsonl: the training loop's wall-clock time, evaluation
excluded); runs from before that clock fall back to the sum of ``sec_per_step``.  Everything is
read from the run directories and written atomically: ``report.md``, ``results.json`` and the
PNGs beside them.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .metrics import QUALITY_FILE, quality_key
from .outputs import read_metrics, save_figure_atomic, write_text_atomic
from .run import SUMMARY_FILE

IMAGE_MEASURES = ("fid", "inception_score", "modes", "kl_uniform")
TOY_MEASURES = ("sliced_wasserstein", "modes", "high_quality")
LOWER_IS_BETTER = {"fid", "kl_uniform", "sliced_wasserstein"}


def load_run(spec: dict) -> dict:
    """A run's evaluations (its metrics records with ``train_seconds``, the training clock at
    each), its ``quality.json`` summary, how it ended (``summary.json``), and its training and
    evaluation seconds."""
    run_dir = Path(spec["run_dir"])
    records = sorted({r["step"]: r for r in read_metrics(run_dir)}.values(), key=lambda r: r["step"])
    key = quality_key(records)
    summed, evals = 0.0, []
    for r in records:
        summed += r.get("sec_per_step") or 0.0
        r.setdefault("train_seconds", summed)
        if key in r:
            evals.append(r)
    summary_path, end_path = run_dir / QUALITY_FILE, run_dir / SUMMARY_FILE
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    end = json.loads(end_path.read_text()) if end_path.is_file() else {}
    return {"spec": spec, "evals": evals, "summary": summary, "end": end, "key": key,
            "steps": records[-1]["step"] if records else 0,
            "train_seconds": records[-1]["train_seconds"] if records else 0.0,
            "eval_seconds": sum(r.get("eval_seconds") or 0.0 for r in records)}


def _series(run: dict, measure: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    e = [r for r in run["evals"] if r.get(measure) is not None]
    return (np.array([r["step"] for r in e]), np.array([r["train_seconds"] for r in e]),
            np.array([r[measure] for r in e], np.float64))


def by_variant(runs: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for run in runs:
        grouped.setdefault(run["spec"]["variant"], []).append(run)
    return grouped


def curve(runs: list[dict], measure: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(steps evaluated in every seed's run, mean, standard deviation across the seeds)."""
    tables = [dict(zip(*_series(r, measure)[::2])) for r in runs]
    steps = sorted(set.intersection(*(set(t) for t in tables))) if tables else []
    values = np.array([[t[s] for s in steps] for t in tables], np.float64).reshape(len(tables), -1)
    return np.array(steps), values.mean(0), values.std(0)


def at_budget(run: dict, measure: str, seconds: float, trained: bool) -> float | None:
    """The measure at the run's last evaluation within ``seconds`` of training; for a run
    ``trained`` with that budget (``wgan.train --budget-seconds``), at its last evaluation: the
    one of the step that spent the budget (or of --iters, reached first)."""
    _, elapsed, values = _series(run, measure)
    inside = values if trained else values[elapsed <= seconds]
    return float(inside[-1]) if len(inside) else None


def common_step(runs: list[dict], measure: str) -> int | None:
    """The last step at which every run evaluated ``measure`` (None: no such step)."""
    steps = [set(_series(r, measure)[0].tolist()) for r in runs]
    shared = set.intersection(*steps) if steps else set()
    return max(shared) if shared else None


def _mean_std(values: list, whole: bool = False) -> str:
    """'mean ± std' of the values given (3 significant digits; ``whole``: rounded to integers)."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    mean, spread = (".0f", ".0f") if whole else (".3g", ".2g")
    if len(values) == 1:
        return f"{values[0]:{mean}}"
    return f"{np.mean(values):{mean}} ± {np.std(values):{spread}}"


# ----------------------------------------------------------------------------- figures

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_curves(path: Path, grouped: dict[str, list[dict]], measures: tuple[str, ...]) -> None:
    """One panel per measure against generator step: each variant's mean, shaded +- 1 std."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(measures), figsize=(4.2 * len(measures), 3.6), squeeze=False)
    for ax, measure in zip(axes[0], measures):
        for i, (variant, runs) in enumerate(grouped.items()):
            steps, mean, std = curve(runs, measure)
            if len(steps):
                ax.plot(steps, mean, marker=".", color=f"C{i}", label=variant)
                ax.fill_between(steps, mean - std, mean + std, color=f"C{i}", alpha=0.2)
        ax.set_xlabel("generator step")
        ax.set_title(measure + (" (lower is better)" if measure in LOWER_IS_BETTER else ""), fontsize=9)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=90)
    plt.close(fig)


def save_time_curves(path: Path, grouped: dict[str, list[dict]], measures: tuple[str, ...],
                     budget: float) -> None:
    """One panel per measure against training seconds (evaluation excluded): a line per run
    (seeds of a variant share its colour), the budget dashed."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(measures), figsize=(4.2 * len(measures), 3.6), squeeze=False)
    for ax, measure in zip(axes[0], measures):
        for i, (variant, runs) in enumerate(grouped.items()):
            for j, run in enumerate(runs):
                _, seconds, values = _series(run, measure)
                ax.plot(seconds, values, marker=".", color=f"C{i}", alpha=0.7, lw=1,
                        label=variant if j == 0 else None)
        ax.axvline(budget, color="k", ls="--", lw=0.8)
        ax.set_xlabel("training seconds (evaluation excluded)")
        ax.set_title(measure + (" (lower is better)" if measure in LOWER_IS_BETTER else ""), fontsize=9)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=90)
    plt.close(fig)


def save_grids(path: Path, grouped: dict[str, list[dict]], steps: list) -> bool:
    """Seed 0's fixed-noise picture of every variant (columns) at each of ``steps`` (rows; a
    step, or 'end': each run's last); False (nothing written) if no run has a picture there."""
    import imageio.v2 as imageio

    from .outputs import sample_path

    plt = _plt()
    fig, axes = plt.subplots(len(steps), len(grouped), squeeze=False,
                             figsize=(2.6 * len(grouped), 2.7 * len(steps)))
    found = False
    for col, (variant, runs) in enumerate(grouped.items()):
        for row, step in enumerate(steps):
            step = runs[0]["steps"] if step == "end" else step
            ax, picture = axes[row][col], sample_path(Path(runs[0]["spec"]["run_dir"]), step)
            ax.set_xticks([])
            ax.set_yticks([])
            if picture.is_file():
                ax.imshow(imageio.imread(picture), cmap="gray")
                found = True
            ax.set_title(f"{variant}, step {step}", fontsize=8)
    fig.tight_layout()
    if found:
        save_figure_atomic(fig, path, dpi=90)
    plt.close(fig)
    return found


# ----------------------------------------------------------------------------- tables

def derived_budget(grouped: dict[str, list[dict]]) -> float:
    """Without --budget-seconds: the smallest mean training time of any variant."""
    return float(min(np.mean([r["train_seconds"] for r in runs]) for runs in grouped.values()))


def step_rows(grouped: dict[str, list[dict]], measures: tuple[str, ...], key: str) -> tuple[list, int | None]:
    """Equal generator steps, per variant: the measures at the last step every run evaluated,
    the Spearman correlation of W with ``key``, seconds per step and evaluation's share."""
    step = common_step([r for runs in grouped.values() for r in runs], key)
    rows = []
    for variant, runs in grouped.items():
        at = [next((e for e in r["evals"] if e["step"] == step), {}) for r in runs]
        rows.append({"variant": variant, "seeds": len(runs), "step": step,
                     **{m: [e.get(m) for e in at] for m in measures},
                     "spearman": [r["summary"].get("spearman_w_vs_" + key) for r in runs],
                     "sec_per_step": [r["train_seconds"] / max(r["steps"], 1) for r in runs],
                     "eval_share": [r["eval_seconds"] / max(r["train_seconds"], 1e-9) for r in runs]})
    return rows, step


def budget_rows(grouped: dict[str, list[dict]], measures: tuple[str, ...], budget: float,
                trained: bool) -> list[dict]:
    """Equal wall clock, per variant: the steps each run reached within ``budget`` seconds and
    the measures there (see :func:`at_budget`)."""
    rows = []
    for variant, runs in grouped.items():
        if trained:
            steps = [r["steps"] for r in runs]
            seconds = [r["train_seconds"] for r in runs]
        else:
            inside = [[e for e in r["evals"] if e["train_seconds"] <= budget] for r in runs]
            steps = [e[-1]["step"] if e else 0 for e in inside]
            seconds = [e[-1]["train_seconds"] if e else 0.0 for e in inside]
        rows.append({"variant": variant, "seeds": len(runs), "steps": steps, "seconds": seconds,
                     "stopped_by": [r["end"].get("stopped_by") for r in runs],
                     **{m: [at_budget(r, m, budget, trained) for r in runs] for m in measures}})
    return rows


def _table(head: list[str], body: list[list[str]]) -> list[str]:
    """A Markdown table: the header, its rule, a line per row of cells."""
    return ["| " + " | ".join(cells) + " |" for cells in [head, ["---"] * len(head), *body]]


def _step_table(rows: list[dict], measures: tuple[str, ...], key: str) -> list[str]:
    head = ["variant", "seeds", "step"] + list(measures) + [f"Spearman(W, {key})", "s/step",
                                                           "eval share"]
    body = [[row["variant"], str(row["seeds"]), str(row["step"])]
            + [_mean_std(row[m]) for m in measures]
            + [_mean_std(row["spearman"]), _mean_std(row["sec_per_step"]),
               _mean_std([100 * s for s in row["eval_share"]]) + "%"] for row in rows]
    return _table(head, body)


def _budget_table(rows: list[dict], measures: tuple[str, ...]) -> list[str]:
    head = ["variant", "seeds", "steps reached", "training s"] + list(measures)
    body = []
    for row in rows:
        reached_iters = sum(s == "iters" for s in row["stopped_by"])
        steps = (_mean_std(row["steps"], whole=True)
                 + (f" ({reached_iters} hit --iters)" if reached_iters else ""))
        body.append([row["variant"], str(row["seeds"]), steps, _mean_std(row["seconds"])]
                    + [_mean_std(row[m]) for m in measures])
    return _table(head, body)


def _grid_rows(settings: dict, grouped: dict[str, list[dict]], budgeted: bool) -> list:
    """Grid rows: steps every run pictured (first, middle, last), and with a budget a last row
    of each variant's picture where its budget ended ('end')."""
    every = settings["sample_every"]
    last = min(r["steps"] for runs in grouped.values() for r in runs) if grouped else settings["iters"]
    last = last // every * every
    steps = sorted({every, last // 2 // every * every, last} - {0}) if last else []
    return steps + (["end"] if budgeted else [])


def _process_seconds(specs: list[dict]) -> list[float]:
    """Each finished run's process time (its last invocation's, from study_done.json)."""
    from .study import DONE_FILE

    found = []
    for spec in specs:
        done = Path(spec["run_dir"]) / DONE_FILE
        if done.is_file():
            found.append(float(json.loads(done.read_text()).get("seconds") or 0.0))
    return found


def write_report(out: Path, settings: dict, specs: list[dict], grid_steps: list[int] | None = None,
                 wall_seconds: float | None = None) -> Path:
    """Write ``report.md``, ``results.json`` and the figures in ``out``; returns the report."""
    runs = [load_run(spec) for spec in specs]
    grouped = by_variant(runs)
    key = quality_key([e for r in runs for e in r["evals"]])
    measures = IMAGE_MEASURES if key == "fid" else tuple(
        m for m in TOY_MEASURES if any(m in e for r in runs for e in r["evals"]))
    trained = settings.get("budget_seconds") is not None
    budget = float(settings["budget_seconds"]) if trained else derived_budget(grouped)
    rows, step = step_rows(grouped, measures, key)
    at_budget_rows = budget_rows(grouped, measures, budget, trained)
    save_curves(out / "curves.png", grouped, measures)
    save_time_curves(out / "quality_vs_time.png", grouped, measures, budget)
    grid_steps = grid_steps or _grid_rows(settings, grouped, trained)
    has_grids = save_grids(out / "grids.png", grouped, grid_steps)
    lines = [f"# Study: {', '.join(grouped)} on {settings['dataset']}", "",
             f"Settings: {json.dumps(settings)}.", ""]
    if wall_seconds is not None:
        lines += [f"Wall-clock time of this invocation: {wall_seconds / 60:.1f} min.", ""]
    processes = _process_seconds(specs)
    if processes:
        lines += [f"Wall-clock time of the {len(processes)} finished runs' processes (start-up, "
                  f"training, evaluation), summed: {sum(processes) / 60:.1f} min.", ""]
    lines += ["## At equal generator steps", "",
              f"The measures at step {step}, the last step every run evaluated (mean ± std over "
              "seeds). Spearman: the rank correlation of the W estimate (mean over the steps "
              f"since the previous evaluation) with {key} over the whole run; positive means the "
              "estimate falls as the samples improve. s/step: training seconds per generator "
              "step; eval share: evaluation time over training time.", ""]
    lines += _step_table(rows, measures, key)
    lines += ["", "![curves against generator steps](curves.png)", "",
              "## At an equal wall-clock budget", ""]
    if trained:
        budget_text = (f"Every run trained until its training clock reached {budget:g} s "
                       f"(`wgan.train --budget-seconds {budget:g}`, at most --iters "
                       f"{settings['iters']} steps) and was evaluated at the step where it "
                       "stopped.")
    else:
        budget_text = (f"Every run trained {settings['iters']} steps; the budget is read off them: "
                       f"{budget:.0f} s, the smallest mean training time of any variant, each "
                       "run scored at its last evaluation within it.")
    lines += [budget_text + " Training seconds: the wall-clock time of the training loop "
              "(steps, pictures, checkpoints) with evaluation and start-up excluded, counted "
              "across resumes "
              "(`train_seconds` in metrics.jsonl). Runs share the machine with whatever else "
              "runs on it, so seconds are noisier than steps.", ""]
    lines += _budget_table(at_budget_rows, measures)
    lines += ["", "![quality against training seconds](quality_vs_time.png)", ""]
    if has_grids:
        shown = ", ".join("where the budget ended" if s == "end" else str(s) for s in grid_steps)
        lines += [f"Seed 0's fixed-noise samples at steps {shown}:", "", "![grids](grids.png)", ""]
    write_text_atomic(out / "results.json", json.dumps(
        {"settings": settings, "budget_seconds": budget, "budget_trained": trained,
         "quality": key, "equal_steps": {"step": step, "rows": rows},
         "equal_wall_clock": at_budget_rows}, indent=1) + "\n")
    report = out / "report.md"
    write_text_atomic(report, "\n".join(lines) + "\n")
    return report
