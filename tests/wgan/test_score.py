"""wgan.score: cutting sample grids back into tiles, the classifier, and the class coverage of a
run, on real MNIST digits (which must show all ten classes) and on noise (which must not)."""
import json

import numpy as np
import pytest

import minigrad
from wgan import outputs, score
from wgan.data import load_images

from .conftest import MNIST_DIR, needs_mnist


def test_grid_tiles_round_trip():
    rng = np.random.default_rng(0)
    images = np.round(rng.random((13, 1, 28, 28)) * 255).astype(np.float32) / 255  # uint8-exact
    grid = outputs.image_grid(images, ncol=4)
    tiles = score.grid_tiles(grid)
    assert tiles.shape == (16, 1, 28, 28)  # 4 rows of 4, the last three cells empty
    np.testing.assert_array_equal(tiles[:13], images)
    assert not tiles[13:].any()


@pytest.mark.parametrize("shape", [(485, 484), (484, 400), (30, 30), (484, 484, 2, 1)])
def test_grid_tiles_rejects_other_pictures(shape):
    with pytest.raises(ValueError, match="not a sample grid"):
        score.grid_tiles(np.zeros(shape, np.uint8))


def test_train_seconds_accumulate(tmp_path):
    for step, secs in ((1, 2.0), (2, 3.0), (3, None)):
        outputs.append_metrics(tmp_path, {"step": step, "sec_per_step": secs})
    assert score.train_seconds_by_step(tmp_path) == {1: 2.0, 2: 5.0, 3: 5.0}


@pytest.fixture(scope="module")
def mnist_test():
    images, labels = load_images("mnist", "test", MNIST_DIR, download=False)
    return images[:2000], labels[:2000]


@pytest.fixture(scope="module")
def classifier(mnist_test):
    """Trained on 5000 real training images for three epochs: enough to tell digits apart.
    Without the shifts and the learning-rate decay, which pay off only over more epochs."""
    images, labels = load_images("mnist", "train", MNIST_DIR, download=False)
    return score.train_classifier(score._unit(images[:5000]), labels[:5000], epochs=3,
                                  decay=1.0, augment=False)


@needs_mnist
def test_classifier_learns_digits(classifier, mnist_test):
    images, labels = mnist_test
    accuracy = (score.predict_proba(classifier, score._unit(images)).argmax(1) == labels).mean()
    assert accuracy > 0.85


def _fake_run(run_dir, grids, dataset="mnist", ncol=None):
    """A run directory with config.json, metrics.jsonl and one sample grid per (step, images);
    ``ncol`` given: a class-conditional run, one row per class."""
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps(
        {"settings": {"dataset": dataset}, "model": {"conditional": ncol is not None}}))
    for step, images in grids:
        outputs.save_image_grid(outputs.sample_path(run_dir, step), images, ncol)
    for step in range(1, max(s for s, _ in grids) + 1):
        outputs.append_metrics(run_dir, {"step": step, "sec_per_step": 0.5})
    return run_dir


@needs_mnist
def test_real_digits_show_all_classes_and_noise_does_not(tmp_path, classifier, mnist_test):
    images, labels = mnist_test
    digits = score._unit(np.concatenate([images[labels == k][:6] for k in range(10)]))[:64]
    noise = np.random.default_rng(1).random((64, 1, 28, 28)).astype(np.float32)
    run = _fake_run(tmp_path / "run", [(0, noise), (10, noise), (20, digits), (30, digits)])
    scores = score.score_run(run, classifier, threshold=0.9)
    assert [s.step for s in scores] == [0, 10, 20, 30]
    assert len(scores[0].classes(min_count=2)) < 10
    first = score.first_all_classes(scores, min_count=2)
    assert first is not None and first.step == 20 and first.train_seconds == 10.0
    assert scores[2].confident > 0.5 > scores[0].confident  # sure of real digits, not of noise


def test_all_classes_from_needs_every_later_grid():
    def grid(step, shown):
        return score.GridScore(step, [2 if k in shown else 0 for k in range(10)], 0.5, None)

    ten, nine = range(10), range(9)
    scores = [grid(0, nine), grid(1, ten), grid(2, nine), grid(3, ten), grid(4, ten)]
    assert score.first_all_classes(scores, 2).step == 1
    assert score.all_classes_from(scores, 2).step == 3  # step 1 is followed by a lapse
    assert score.all_classes_from(scores, 3) is None    # no grid has 3 tiles of a class
    assert score.all_classes_from(scores[:3], 2) is None  # the last grid misses one


@needs_mnist
def test_best_tiles_rank_each_class(classifier, mnist_test):
    images, labels = mnist_test
    digits = score._unit(np.concatenate([images[labels == k][:3] for k in range(10)]))
    tiles, order, probs = score.best_tiles(classifier, outputs.image_grid(digits, ncol=6), k=3)
    assert tiles.shape == (30, 1, 28, 28) and order.shape == probs.shape == (10, 3)
    assert (np.diff(probs, axis=1) <= 0).all()  # best first
    truth = np.repeat(np.arange(10), 3)
    assert (truth[order[:, 0]] == np.arange(10)).mean() >= 0.8  # the best tile is that digit


@needs_mnist
def test_label_accuracy_of_class_conditional_grids(tmp_path, classifier, mnist_test):
    images, labels = mnist_test
    rows = score._unit(np.concatenate([images[labels == k][:6] for k in range(10)]))  # 0..9
    shifted = np.roll(rows, 6, axis=0)  # every row shows the next class down: all wrong
    run = _fake_run(tmp_path / "run", [(1, rows), (2, shifted)], ncol=6)
    right, wrong = score.score_run(run, classifier, threshold=0.9)
    assert right.label_accuracy > 0.8 and wrong.label_accuracy < 0.2
    assert score.score_run(_fake_run(tmp_path / "plain", [(1, rows)]), classifier, 0.9)[0] \
        .label_accuracy is None
    bad = _fake_run(tmp_path / "bad", [(1, rows[:56])], ncol=8)  # 7 rows
    with pytest.raises(ValueError, match="one row per class"):
        score.score_run(bad, classifier, 0.9)


@needs_mnist
def test_cli_writes_scores_and_plot(tmp_path, classifier, mnist_test, capsys):
    images, labels = mnist_test
    digits = score._unit(np.concatenate([images[labels == k][:7] for k in range(10)]))[:64]
    run = _fake_run(tmp_path / "run", [(5, digits)])
    saved = tmp_path / "classifier.npz"
    minigrad.save({"version": score.CLASSIFIER_VERSION, "dataset": "mnist", "test_accuracy": 0.9,
                   "train_images": 3000, "state": classifier.state_dict()}, saved)
    plot = tmp_path / "coverage.png"
    # the options reach the scorer (the test's classifier is a quick, weak one)
    assert score.main([str(run), "--classifier", str(saved), "--plot", str(plot),
                       "--threshold", "0.8", "--min-count", "1"]) == 0
    out = capsys.readouterr().out
    assert "all ten classes: first at step 5" in out
    assert "in every grid from step 5" in out
    written = json.loads((run / score.SCORES_FILE).read_text())
    assert written["first_all_classes"] == {"step": 5, "train_seconds": 2.5}
    assert (written["threshold"], written["min_count"]) == (0.8, 1)
    assert sum(written["grids"][0]["counts"]) > 50
    assert plot.stat().st_size > 0
    assert written["all_classes_from"] == {"step": 5, "train_seconds": 2.5}

    best = tmp_path / "best.png"
    assert score.main([str(run), "--classifier", str(saved), "--best", str(best), "--top", "3"]) == 0
    assert best.stat().st_size > 0 and f"wrote {best}" in capsys.readouterr().out
    assert score.main([str(run), "--classifier", str(saved), "--best", str(best),
                       "--step", "7"]) == 1
    assert "no sample grid at step 7; its grids are at steps 5 to 5" in capsys.readouterr().err


def test_cli_reports_missing_training_data(tmp_path, monkeypatch, capsys):
    run = _fake_run(tmp_path / "run", [(0, np.zeros((4, 1, 28, 28), np.float32))])
    monkeypatch.setenv("HOME", str(tmp_path))  # no cached classifier, no cached data
    monkeypatch.setenv("WGAN_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setattr("wgan.data._download", lambda *a, **k: (_ for _ in ()).throw(
        OSError("offline")))
    assert score.main([str(run), "--data-dir", str(tmp_path / "empty")]) == 1
    assert "mnist train split not found" in capsys.readouterr().err


def test_cli_refuses_runs_without_classes(tmp_path, capsys):
    run = _fake_run(tmp_path / "toy", [(0, np.zeros((4, 1, 28, 28), np.float32))], "8gaussians")
    with pytest.raises(SystemExit):
        score.main([str(run)])
    assert "'8gaussians' has no classes to score" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        score.main([str(tmp_path / "missing")])
    assert "not a run directory" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        score.main([str(run), "--threshold", "1.5"])
    assert "probability" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        score.main([str(run), str(run), "--best", "b.png"])
    assert "--best draws one run's grid; got 2 runs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        score.main([str(run), "--step", "3"])
    assert "--step chooses the grid for --best" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["garbage", "other-checkpoint"])
def test_cli_bad_classifier_file_is_an_error_line(content, tmp_path, capsys):
    run = _fake_run(tmp_path / "run", [(0, np.zeros((4, 1, 28, 28), np.float32))])
    bad = tmp_path / "bad.npz"
    if content == "garbage":
        bad.write_bytes(b"not a classifier at all")
    else:
        minigrad.save({"step": 3}, bad)
    assert score.main([str(run), "--classifier", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bad.npz" in err and "Traceback" not in err


def test_help_describes_the_tool_in_whole_sentences():
    from .conftest import run_module

    result = run_module("wgan.score", "--help")
    assert result.returncode == 0
    description = result.stdout.split("positional arguments")[0]
    for phrase in ("RUN/scores.json:", "the label accuracy", "--best FILE", "a proxy, not a person",
                   "(the README does both)."):
        assert phrase in description, phrase
    assert "``" not in description
