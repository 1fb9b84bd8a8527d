"""Results as JSON (everything, samples included), a Markdown table and a bar chart."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .machine import machine_kind, summary_lines

METHOD = (
    "Times are per call: median [min, max] over the repeats; each sample is one or more "
    "back-to-back calls, minigrad and PyTorch sampled alternately (A B A B) in one process. "
    "ratio = minigrad median / PyTorch median (> 1: minigrad slower).",
    "Peak memory: peak RSS (VmHWM, reset after set-up and one warm-up call) of a separate "
    "child process per row and framework during the memory iterations; in parentheses its "
    "growth over the RSS just before them, the working set of one call.",
    "Agreement gate before timing: one run of every row on both frameworks from the same "
    "weights and inputs, losses / gradients / outputs compared (see benchmarks/agreement.py).",
)


def _ms(stats: dict) -> str:
    return (f"{stats['median_s'] * 1e3:.2f} [{stats['min_s'] * 1e3:.2f}, "
            f"{stats['max_s'] * 1e3:.2f}]")


def _memory(stats: dict) -> str:
    mem = stats.get("memory")
    if not mem:
        return "-"
    if "error" in mem:
        return "error"
    text = f"{mem['peak_rss_mib']:.0f} (+{mem['growth_mib']:.0f})"
    if "device_peak_mib" in mem:
        text += f", device {mem['device_peak_mib']:.0f}"
    return text


def markdown(result: dict) -> str:
    s = result["settings"]
    lines = [
        f"# minigrad vs PyTorch: {result['title']}",
        "",
        f"{result['machine']['time']}; {s['dtype']}, backend {s['backend']}, DIM {s['dim']}, "
        f"batch sizes {s['batch_sizes']}, {s['repeats']} repeats after {s['warmup']} warm-up "
        f"calls, {s['threads']} threads{', --quick' if s['quick'] else ''}.",
        "",
        *summary_lines(result["machine"]),
        f"- load average at end: {result['machine'].get('load_average_end')}",
        "",
        "| row | batch | minigrad ms | PyTorch ms | minigrad / PyTorch | minigrad peak MiB "
        "| PyTorch peak MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        lines.append(f"| {row['name']} | {row['batch'] or '-'} | {_ms(row['minigrad'])} | "
                     f"{_ms(row['pytorch'])} | **{row['ratio']:.2f}** | {_memory(row['minigrad'])} "
                     f"| {_memory(row['pytorch'])} |")
    lines += ["", "Agreement (error = max|a-b| / max(max|b|, 1e-3 x group max)):", ""]
    for dtype, w in result["agreement"]["worst"].items():
        lines.append(f"- {dtype}: worst {w['error']:.2e} (tolerance {w['tolerance']:g}) over "
                     f"{w['count']} quantities, at {w['row']}: {w['quantity']}")
    lines += ["", *[f"- {n}" for n in (*METHOD, *result["notes"])], ""]
    return "\n".join(lines)


def chart(result: dict, path: Path) -> None:
    """Horizontal bars: median ms per row for both frameworks (log scale), ratio labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    labels = [f"{r['name']} (b{r['batch']})" if r["batch"] else r["name"] for r in rows]
    mg = [r["minigrad"]["median_s"] * 1e3 for r in rows]
    pt = [r["pytorch"]["median_s"] * 1e3 for r in rows]
    height = 0.38
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.42 * len(rows)))
    ys = range(len(rows))
    ax.barh([y - height / 2 for y in ys], mg, height, label="minigrad", color="#d95f02")
    ax.barh([y + height / 2 for y in ys], pt, height, label="PyTorch", color="#1b9e77")
    for y, r, a, b in zip(ys, rows, mg, pt):
        ax.text(max(a, b) * 1.08, y, f"x{r['ratio']:.2f}", va="center", fontsize=8)
    ax.set_yticks(list(ys), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(right=max(mg + pt) * 3)
    ax.set_xlabel("median ms per call (log scale); label: minigrad / PyTorch")
    machine = result["machine"]
    ax.set_title(f"{result['title']}: {machine['cpu']}, {result['settings']['threads']} threads, "
                 f"{result['settings']['dtype']}", fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def result_stem(suite: str, info: dict, threads: int, kind: str | None = None,
                tag: str = "") -> str:
    """``<suite>_<machine kind>_<date>_<threads>t<tag>``, the name of a run's result files;
    ``kind`` (--machine-kind) overrides the one read from ``info``."""
    return f"{suite}_{kind or machine_kind(info)}_{info['date']}_{threads}t{tag}"


def publish(result: dict, text: str, out: Path, stem: str) -> None:
    """Write the JSON and Markdown (:func:`write_json_and_markdown`), print the Markdown, and
    say where the files went on stderr."""
    write_json_and_markdown(result, text, out, stem)
    print(text)
    print(f"wrote {out / stem}.json and .md", file=sys.stderr)


def write_json_and_markdown(result: dict, text: str, out: Path, stem: str) -> list[Path]:
    """Write ``result`` to ``stem``.json and ``text`` to ``stem``.md under ``out``, each via a
    temp file and a rename (an interrupted run leaves no half-written result)."""
    from wgan.outputs import write_text_atomic

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.json", out / f"{stem}.md"]
    write_text_atomic(paths[0], json.dumps(result, indent=1, default=str) + "\n")
    write_text_atomic(paths[1], text)
    return paths


def write_all(result: dict, out: Path, stem: str) -> list[Path]:
    """Write ``stem``.json, .md and .png under ``out``; returns the paths."""
    paths = write_json_and_markdown(result, markdown(result), out, stem)
    paths.append(out / f"{stem}.png")
    chart(result, paths[2])
    return paths
