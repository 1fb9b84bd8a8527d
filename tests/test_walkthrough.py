"""docs/wgan-gp-walkthrough.md runs as written: every Python block, top to bottom in one
namespace, prints what the page shows under it; its pictures are the examples' graphs."""
from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "wgan-gp-walkthrough.md"
NEEDS_MARKER = "<!-- walkthrough-output-needs: "
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:e[-+]?\d+)?")
HAS_TORCH = importlib.util.find_spec("torch") is not None


@dataclass
class Block:
    code: str
    expected: str | None  # the ```text block that follows it, if any
    needs: str | None  # a package its printed output depends on


def page_blocks(text: str) -> list[Block]:
    """The page's ```python blocks in order, each with the output block shown after it."""
    fences = list(re.finditer(r"^```(\w+)\n(.*?)^```", text, re.S | re.M))
    blocks = []
    for i, fence in enumerate(fences):
        if fence.group(1) != "python":
            continue
        following = fences[i + 1] if i + 1 < len(fences) else None
        expected = following.group(2) if following and following.group(1) == "text" else None
        before = text[max(0, fence.start() - 200):fence.start()]
        needs = re.findall(re.escape(NEEDS_MARKER) + r"(\w+) -->\s*$", before)
        blocks.append(Block(fence.group(2), expected, needs[0] if needs else None))
    return blocks


def outputs_agree(printed: str, expected: str) -> bool:
    """Same words; numbers equal to 4 significant digits, or both below 1e-6 (the size of a
    finite-difference error, whose last digits depend on the machine's rounding)."""
    if NUMBER.sub("#", printed).split() != NUMBER.sub("#", expected).split():
        return False
    pairs = zip(NUMBER.findall(printed), NUMBER.findall(expected))
    return all(math.isclose(float(a), float(b), rel_tol=1e-3)
               or (abs(float(a)) < 1e-6 and abs(float(b)) < 1e-6) for a, b in pairs)


@pytest.fixture(scope="module")
def page_run():
    """Run every block once, in order, in one namespace: (namespace, [(block, printed)], s)."""
    scope: dict = {"__name__": "walkthrough"}
    printed = []
    start = time.perf_counter()
    for block in page_blocks(PAGE.read_text()):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block.code, str(PAGE), "exec"), scope)
        printed.append((block, out.getvalue()))
    return scope, printed, time.perf_counter() - start


def test_the_page_has_its_blocks_and_an_output_under_each():
    blocks = page_blocks(PAGE.read_text())
    assert len(blocks) >= 10
    assert [b.needs for b in blocks].count("torch") == 1
    for block in blocks:
        if "print(" in block.code:
            assert block.expected is not None, f"no output shown for\n{block.code[:200]}"


def test_every_block_prints_what_the_page_shows(page_run):
    _, printed, seconds = page_run
    for block, out in printed:
        if block.expected is None or (block.needs == "torch" and not HAS_TORCH):
            continue
        assert outputs_agree(out, block.expected), (
            f"the block\n{block.code[:300]}\nprinted\n{out}\nbut the page shows\n{block.expected}")
    assert seconds < 60, f"the page took {seconds:.0f} s"


def test_the_outputs_comparison_can_fail():
    assert outputs_agree("error 3e-10, value 0.4404", "error 8e-11, value 0.44040")
    assert not outputs_agree("value 0.4404", "value 0.4504")
    assert not outputs_agree("finite: True", "finite: False")
    assert not outputs_agree("error 3e-01", "error 3e-10")


def test_the_penalty_picture_is_drawn_from_the_pages_numbers(page_run):
    from minigrad.viz.examples import gradient_penalty

    scope, _, _ = page_run
    drawing = gradient_penalty()
    host = lambda t: t.detach().numpy()
    np.testing.assert_array_equal(host(drawing.params["x_hat"]), host(scope["x_hat"]))
    assert drawing.outputs["penalty"].item() == pytest.approx(scope["penalty"].item(), rel=1e-12)
    for name, p in scope["critic"].named_parameters():
        np.testing.assert_array_equal(host(drawing.params[name]), host(p))


def test_the_page_confirms_the_double_backward_by_finite_differences(page_run):
    scope, _, _ = page_run
    assert scope["worst"] < 1e-7
    assert [g is None for g in scope["grads"]] == [False, False, False, True]


def test_the_page_shows_every_picture_it_names():
    text = PAGE.read_text()
    pictures = re.findall(r"!\[[^\]]*\]\((img/[^)]+)\)", text)
    assert len(pictures) == 5
    for picture in pictures:
        assert (PAGE.parent / picture).is_file(), f"no {picture}: run python docs/make_images.py"


@pytest.mark.skipif(importlib.util.find_spec("graphviz") is None or shutil.which("dot") is None,
                    reason="Graphviz's `dot` binary is not installed (apt-get install graphviz)")
def test_one_command_redraws_every_picture_the_page_shows(tmp_path):
    spec = importlib.util.spec_from_file_location("make_images", ROOT / "docs" / "make_images.py")
    make_images = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_images)
    assert make_images.main(["--out", str(tmp_path)]) == 0
    shown = {Path(p).name for p in re.findall(r"\]\(img/([^)]+)\)", PAGE.read_text())}
    assert shown <= {p.name for p in tmp_path.iterdir()}


def test_the_readmes_viz_snippet_runs_after_its_worked_example(tmp_path, monkeypatch, capsys):
    from tests.test_readme import readme_example

    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(readme_example("gradient-penalty"), scope)
    exec(readme_example("viz"), scope)
    assert "forward ops" in capsys.readouterr().out
    graph = scope["graph"]
    assert graph.count("op", 1) > 0 and graph.count("op", 0) > 0
    source = (tmp_path / "penalty.dot").read_text()
    assert all(name in source for name in ("W1", "b1", "W2", "x_hat"))
