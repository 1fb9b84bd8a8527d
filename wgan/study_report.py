"""The report of a :mod:`wgan.study`: curves with mean and spread across seeds, sample grids side
by side, the W-estimate / quality correlation per variant and a summary table at equal steps and
at an equal wall-clock budget.  Everything is read from the run directories and written
atomically: ``report.md``, ``results.json`` and the PNGs beside them.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .metrics import QUALITY_FILE, quality_key
from .outputs import read_metrics, save_figure_atomic, write_text_atomic

IMAGE_MEASURES = ("fid", "inception_score", "modes", "kl_uniform")
TOY_MEASURES = ("sliced_wasserstein", "modes", "high_quality")
LOWER_IS_BETTER = {"fid", "kl_uniform", "sliced_wasserstein"}


def load_run(spec: dict) -> dict:
    """A run's evaluations: ``steps``, ``seconds`` (training time up to each, the sum of
    ``sec_per_step``), each measure's values, and its ``quality.json`` summary."""
    run_dir = Path(spec["run_dir"])
    records = sorted({r["step"]: r for r in read_metrics(run_dir)}.values(), key=lambda r: r["step"])
    key = quality_key(records)
    elapsed, evals = 0.0, []
    for r in records:
        elapsed += r.get("sec_per_step") or 0.0
        if key in r:
            evals.append({**r, "train_seconds": elapsed})
    summary_path = run_dir / QUALITY_FILE
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    return {"spec": spec, "evals": evals, "summary": summary, "key": key,
            "train_seconds": elapsed,
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


def at_budget(run: dict, measure: str, seconds: float) -> float | None:
    """The measure at the run's last evaluation within ``seconds`` of training."""
    _, elapsed, values = _series(run, measure)
    inside = values[elapsed <= seconds]
    return float(inside[-1]) if len(inside) else None


def _mean_std(values: list) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    return f"{np.mean(values):.3g} ± {np.std(values):.2g}" if len(values) > 1 else f"{values[0]:.3g}"


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


def save_time_curves(path: Path, grouped: dict[str, list[dict]], measure: str) -> None:
    """The quality measure against training seconds, every run (a line per seed)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for i, (variant, runs) in enumerate(grouped.items()):
        for j, run in enumerate(runs):
            _, seconds, values = _series(run, measure)
            ax.plot(seconds, values, marker=".", color=f"C{i}", alpha=0.8,
                    label=variant if j == 0 else None)
    ax.set_xlabel("training seconds (sum of sec_per_step)")
    ax.set_ylabel(measure)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=90)
    plt.close(fig)


def save_grids(path: Path, grouped: dict[str, list[dict]], steps: list[int]) -> bool:
    """Seed 0's fixed-noise picture of every variant (columns) at each of ``steps`` (rows);
    False (nothing written) if no run has a picture at those steps."""
    import imageio.v2 as imageio

    from .outputs import sample_path

    plt = _plt()
    fig, axes = plt.subplots(len(steps), len(grouped), squeeze=False,
                             figsize=(2.6 * len(grouped), 2.7 * len(steps)))
    found = False
    for col, (variant, runs) in enumerate(grouped.items()):
        for row, step in enumerate(steps):
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

def summary_rows(grouped: dict[str, list[dict]], measures: tuple[str, ...], key: str) -> tuple[list, float]:
    """Per variant: the last evaluation's measures (equal steps), the quality measure within
    the equal wall-clock budget (the smallest mean training time of any variant), the
    Spearman correlation of W with it, seconds per step and evaluation's share of the time."""
    budget = min(np.mean([r["train_seconds"] for r in runs]) for runs in grouped.values())
    rows = []
    for variant, runs in grouped.items():
        last = [r["evals"][-1] if r["evals"] else {} for r in runs]
        steps = [r["evals"][-1]["step"] for r in runs if r["evals"]]
        rho = [r["summary"].get("spearman_w_vs_" + key) for r in runs]
        row = {"variant": variant, "seeds": len(runs), "step": max(steps) if steps else None,
               **{m: [e.get(m) for e in last] for m in measures},
               "at_budget": [at_budget(r, key, budget) for r in runs], "spearman": rho,
               "sec_per_step": [r["train_seconds"] / max(r["evals"][-1]["step"], 1)
                                for r in runs if r["evals"]],
               "eval_share": [r["eval_seconds"] / max(r["train_seconds"], 1e-9) for r in runs]}
        rows.append(row)
    return rows, float(budget)


def _markdown_table(rows: list[dict], measures: tuple[str, ...], key: str, budget: float) -> list[str]:
    head = (["variant", "seeds", "step"] + list(measures)
            + [f"{key} at {budget:.0f} s", f"Spearman(W, {key})", "s/step", "eval share"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["variant"], str(row["seeds"]), str(row["step"])]
        cells += [_mean_std(row[m]) for m in measures]
        cells += [_mean_std(row["at_budget"]), _mean_std(row["spearman"]),
                  _mean_std(row["sec_per_step"]), _mean_std([100 * s for s in row["eval_share"]]) + "%"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_report(out: Path, settings: dict, specs: list[dict], grid_steps: list[int] | None = None,
                 wall_seconds: float | None = None) -> Path:
    """Write ``report.md``, ``results.json`` and the figures in ``out``; returns the report."""
    runs = [load_run(spec) for spec in specs]
    grouped = by_variant(runs)
    key = quality_key([e for r in runs for e in r["evals"]])
    measures = IMAGE_MEASURES if key == "fid" else tuple(
        m for m in TOY_MEASURES if any(m in e for r in runs for e in r["evals"]))
    rows, budget = summary_rows(grouped, measures, key)
    save_curves(out / "curves.png", grouped, measures)
    save_time_curves(out / "quality_vs_time.png", grouped, key)
    iters = settings["iters"]
    grid_steps = grid_steps or sorted({settings["sample_every"], iters // 2 // settings["sample_every"]
                                       * settings["sample_every"], iters} - {0})
    has_grids = save_grids(out / "grids.png", grouped, grid_steps)
    lines = [f"# Study: {', '.join(grouped)} on {settings['dataset']}", "",
             f"Settings: {json.dumps(settings)}.", ""]
    if wall_seconds is not None:
        lines += [f"Wall-clock time of this invocation: {wall_seconds / 60:.1f} min.", ""]
    lines += [f"Equal steps: the measures at each run's last evaluation (mean ± std over seeds). "
              f"Equal wall clock: {key} at the last evaluation within {budget:.0f} s of training "
              "(the smallest mean training time of any variant). Spearman: the rank correlation "
              "of the W estimate (mean over the steps since the previous evaluation) with "
              f"{key} over the run; positive means the estimate falls as the samples improve.", ""]
    lines += _markdown_table(rows, measures, key, budget)
    lines += ["", "![curves](curves.png)", "", "![quality against time](quality_vs_time.png)", ""]
    if has_grids:
        lines += [f"Seed 0's fixed-noise samples at steps {grid_steps}:", "", "![grids](grids.png)", ""]
    write_text_atomic(out / "results.json", json.dumps(
        {"settings": settings, "budget_seconds": budget, "quality": key, "rows": rows}, indent=1) + "\n")
    report = out / "report.md"
    write_text_atomic(report, "\n".join(lines) + "\n")
    return report
