"""wgan.study --budget-seconds: every run gets the budget (fresh and resumed), and the report
compares the variants at equal steps and at the budget."""
import json

import pytest

from wgan import outputs, study
from wgan.study_report import write_report


def _settings(tmp_path, **given):
    return study.study_settings(tmp_path, {**{k: None for k in study.SETTINGS}, **given})


def test_every_run_gets_the_budget_fresh_and_resumed(tmp_path):
    spec = study.run_specs(_settings(tmp_path, dataset="8gaussians", budget_seconds=90.0,
                                     iters=5000), tmp_path)[0]
    command = study.train_command(spec)
    assert command[command.index("--budget-seconds") + 1] == "90.0"
    assert command[command.index("--iters") + 1] == "5000"
    run_dir = tmp_path / "runs" / spec["name"]
    run_dir.mkdir(parents=True)
    (run_dir / "checkpoint.npz").write_bytes(b"")
    resumed = study.train_command(spec)
    assert "--resume" in resumed and resumed[resumed.index("--budget-seconds") + 1] == "90.0"


def test_an_older_study_json_gets_the_new_settings_defaults(tmp_path):
    old = {k: v for k, v in study.SETTINGS.items() if k != "budget_seconds"}
    (tmp_path / study.STUDY_FILE).write_text(json.dumps(old))
    assert _settings(tmp_path)["budget_seconds"] is None


@pytest.mark.parametrize("value", ["0", "-1", "x"])
def test_bad_study_budgets_are_usage_errors(value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        study.main(["--out", str(tmp_path / "s"), "--budget-seconds", value])
    assert exc.value.code == 2 and "expected a number of seconds > 0" in capsys.readouterr().err


def _fake_run(run_dir, seconds_per_step, budget, eval_every, fid_of_step):
    """A run's metrics as wgan.train --budget-seconds writes them: evaluated every
    ``eval_every`` steps and at the step whose clock passes ``budget``."""
    run_dir.mkdir(parents=True)
    step = 0
    while True:
        step += 1
        record = {"step": step, "wasserstein": 1.0 / step, "sec_per_step": seconds_per_step,
                  "train_seconds": step * seconds_per_step}
        spent = record["train_seconds"] >= budget
        if step % eval_every == 0 or spent:
            record.update(fid=fid_of_step(step), inception_score=2.0, modes=10, kl_uniform=0.1,
                          eval_seconds=0.5)
        outputs.append_metrics(run_dir, record)
        if spent:
            break
    (run_dir / "summary.json").write_text(json.dumps({"stopped_by": "budget", "step": step}))
    return step


def test_the_report_compares_at_equal_steps_and_at_the_budget(tmp_path):
    settings = _settings(tmp_path, variants=["gan", "wgan"], seeds=2, iters=1000,
                         eval_every=10, sample_every=10, budget_seconds=6.0)
    specs = study.run_specs(settings, tmp_path)
    # gan steps are 3 times cheaper: at the budget it is 3 times further, and worse per step
    cost = {"gan": 0.1, "wgan": 0.3}
    quality = {"gan": lambda s: 1000.0 - s, "wgan": lambda s: 1000.0 - 2 * s}
    ends = {s["name"]: _fake_run(tmp_path / "runs" / s["name"], cost[s["variant"]], 6.0, 10,
                                 quality[s["variant"]]) for s in specs}
    assert ends == {"gan-seed0": 60, "gan-seed1": 60, "wgan-seed0": 20, "wgan-seed1": 20}
    report = write_report(tmp_path, settings, specs).read_text()
    assert "## At equal generator steps" in report and "## At an equal wall-clock budget" in report
    # equal steps: both at step 20, the last step every run evaluated; wgan is better there
    assert "| gan | 2 | 20 | 980 ± 0 |" in report and "| wgan | 2 | 20 | 960 ± 0 |" in report
    # equal wall clock: each at the evaluation where its 6 s ended; gan is better there
    assert "| gan | 2 | 60 ± 0 | 6 ± 0 | 940 ± 0 |" in report
    assert "| wgan | 2 | 20 ± 0 | 6 ± 0 | 960 ± 0 |" in report
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["budget_seconds"] == 6.0 and results["budget_trained"] is True
    wall = {row["variant"]: row for row in results["equal_wall_clock"]}
    assert wall["gan"]["steps"] == [60, 60] and wall["gan"]["fid"] == [940.0, 940.0]
    assert wall["wgan"]["steps"] == [20, 20] and wall["wgan"]["fid"] == [960.0, 960.0]
    assert results["equal_steps"]["step"] == 20
    assert (tmp_path / "quality_vs_time.png").is_file() and (tmp_path / "curves.png").is_file()
