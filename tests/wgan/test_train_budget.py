"""wgan.train --budget-seconds: a wall-clock budget stops a run cleanly, resumes continue it,
evaluation is not counted, and bad values are usage errors."""
import json
import time

import pytest

from minigrad.serialization import load
from wgan import metrics
from wgan.config import ConfigError, resolve_config, resume_config

from .conftest import read_jsonl

# a 2-D run: no data files, milliseconds per step; pictures only where the run ends
TOY = ["--dataset", "8gaussians", "--loss", "gan", "--batch-size", "16", "--n-samples", "16",
       "--sample-every", "100000", "--checkpoint-every", "100000", "--quiet"]


def _summary(run):
    return json.loads((run / "summary.json").read_text())


def test_the_budget_stops_a_run_cleanly_before_iters(tmp_path, train_main):
    run = tmp_path / "run"
    code, _, err = train_main(*TOY, "--iters", "1000000", "--budget-seconds", "0.5",
                              "--out", str(run))
    assert code == 0, err
    assert "budget of 0.5 s reached at generator step" in err
    summary = _summary(run)
    step = summary["step"]
    assert summary["stopped_by"] == "budget" and 0 < step < 1_000_000
    assert summary["budget_seconds"] == 0.5 and summary["train_seconds"] >= 0.5
    assert load(run / "checkpoint.npz")["step"] == step  # the final checkpoint, at the last step
    assert (run / "samples" / f"step_{step:06d}.png").is_file() and (run / "samples.gif").is_file()
    records = read_jsonl(run / "metrics.jsonl")
    assert [r["step"] for r in records] == list(range(1, step + 1))
    clock = [r["train_seconds"] for r in records]
    assert clock == sorted(clock) and clock[-2] < 0.5 <= clock[-1]  # stopped at the first step past it


def test_a_run_that_reaches_iters_first_says_so(tmp_path, train_main):
    run = tmp_path / "run"
    assert train_main(*TOY, "--iters", "3", "--budget-seconds", "1000", "--out", str(run))[0] == 0
    assert _summary(run)["stopped_by"] == "iters" and _summary(run)["step"] == 3


def test_a_resumed_run_continues_its_budget(tmp_path, train_main):
    run = tmp_path / "run"
    assert train_main(*TOY, "--iters", "4", "--budget-seconds", "1000", "--out", str(run))[0] == 0
    spent = read_jsonl(run / "metrics.jsonl")[-1]["train_seconds"]
    # a budget already spent by the first process: a fresh clock would train on
    code, _, err = train_main("--resume", str(run), "--iters", "1000000", "--quiet",
                              "--budget-seconds", str(spent * 0.99))
    assert code == 0, err
    assert _summary(run)["step"] == 4 and _summary(run)["stopped_by"] == "budget"
    assert len(read_jsonl(run / "metrics.jsonl")) == 4
    # a larger budget: the clock goes on from the checkpoint's seconds, not from zero
    code, _, err = train_main("--resume", str(run), "--iters", "1000000", "--quiet",
                              "--budget-seconds", str(spent + 0.3))
    assert code == 0, err
    records = read_jsonl(run / "metrics.jsonl")
    assert [r["step"] for r in records] == list(range(1, len(records) + 1)) and len(records) > 4
    assert records[4]["train_seconds"] > spent
    assert spent + 0.3 <= records[-1]["train_seconds"] == _summary(run)["train_seconds"]
    assert load(run / "checkpoint.npz")["step"] == len(records)


def test_evaluation_is_not_counted_and_the_last_step_is_evaluated(tmp_path, train_main, monkeypatch):
    measures = metrics.toy_measures

    def slow_measures(*args, **kwargs):  # an evaluation that takes a second
        time.sleep(1.0)
        return measures(*args, **kwargs)

    monkeypatch.setattr(metrics, "toy_measures", slow_measures)
    run = tmp_path / "run"
    code, _, err = train_main(*TOY, "--iters", "1000000", "--budget-seconds", "0.6",
                              "--eval-every", "3", "--eval-samples", "200", "--out", str(run))
    assert code == 0, err
    records = read_jsonl(run / "metrics.jsonl")
    evaluated = [r["step"] for r in records if "sliced_wasserstein" in r]
    assert evaluated[-1] == records[-1]["step"] == _summary(run)["step"]  # evaluated where it stopped
    assert evaluated[:-1] == list(range(3, records[-1]["step"], 3))
    clock = [r["train_seconds"] for r in records]
    # each evaluation slept 1 s; no step of the clock (nor the whole budget) contains one
    assert max(b - a for a, b in zip(clock, clock[1:])) < 1.0 and clock[-1] < 1.0 + 0.6
    assert _summary(run)["eval_seconds"] >= len(evaluated) * 1.0


@pytest.mark.parametrize("value", ["0", "-2", "abc", "inf", "nan"])
def test_bad_budgets_are_usage_errors(value, tmp_path, train_main):
    code, _, err = train_main(*TOY, "--budget-seconds", value, "--out", str(tmp_path / "run"))
    assert code == 2 and "--budget-seconds: expected a number of seconds > 0" in err, err
    assert not (tmp_path / "run").exists()


def test_the_budget_is_a_resumable_setting():
    with pytest.raises(ConfigError, match="--budget-seconds must be a finite number > 0"):
        resolve_config({"budget_seconds": 0.0})
    saved = resolve_config({"dataset": "8gaussians", "budget_seconds": 60.0})
    assert saved.budget_seconds == 60.0
    assert resume_config(saved, {"budget_seconds": 120.0}).budget_seconds == 120.0
    assert resume_config(saved, {}).budget_seconds == 60.0
