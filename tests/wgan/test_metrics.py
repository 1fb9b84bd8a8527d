"""wgan.metrics: the Frechet distance, IS, modes, the toy measures, the samples reader, the CLI
and the quality measures written during training (--eval-every)."""
import json

import numpy as np
import pytest

from wgan import metrics, score
from wgan.data import load_images, toy_batch

from .conftest import MNIST_DIR, TINY_MNIST, needs_mnist, read_jsonl


# ----------------------------------------------------------------------------- the measures

def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 5))
    cov = a @ a.T + np.eye(5)
    mu = rng.standard_normal(5)
    assert metrics.frechet_distance(mu, cov, mu, cov) == pytest.approx(0, abs=1e-8)
    # diagonal covariances: sum (m1 - m2)^2 + (s1 - s2)^2
    s1, s2 = rng.uniform(0.5, 2, 5), rng.uniform(0.5, 2, 5)
    expected = ((mu - 1) ** 2).sum() + ((s1 - s2) ** 2).sum()
    assert metrics.frechet_distance(mu, np.diag(s1 ** 2), np.ones(5), np.diag(s2 ** 2)) \
        == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_of_non_commuting_covariances():
    """tr((C1 C2)^1/2) from the eigenvalues of C1 C2 (real, non-negative) as a reference."""
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((6, 6)), rng.standard_normal((6, 9))
    c1, c2 = a @ a.T, b @ b.T / 9
    trace_sqrt = np.sqrt(np.linalg.eigvals(c1 @ c2).real.clip(0)).sum()
    expected = np.trace(c1) + np.trace(c2) - 2 * trace_sqrt
    assert metrics.frechet_distance(np.zeros(6), c1, np.zeros(6), c2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_singular_covariances_is_finite():
    rank_one = np.outer([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    value = metrics.frechet_distance(np.zeros(3), rank_one, np.zeros(3), np.zeros((3, 3)))
    assert value == pytest.approx(np.trace(rank_one))


def test_inception_score_and_class_measures_of_constructed_probabilities():
    one_class = np.tile(np.eye(10)[3], (50, 1))
    assert metrics.inception_score(one_class) == pytest.approx(1.0)
    found = metrics.class_measures(one_class)
    assert found["modes"] == 1 and found["kl_uniform"] == pytest.approx(np.log(10))
    uniform = np.eye(10)[np.arange(100) % 10]
    assert metrics.inception_score(uniform) == pytest.approx(10.0, rel=1e-6)
    found = metrics.class_measures(uniform)
    assert found["modes"] == 10 and found["kl_uniform"] == pytest.approx(0, abs=1e-12)
    # a class below the documented share is not a mode
    labels = np.r_[np.zeros(99, int), 1]
    assert metrics.class_measures(np.eye(10)[labels])["modes"] == 1


def test_toy_mode_counting_is_exact_on_constructed_samples():
    centers, std = metrics.TOY_MIXTURES["25gaussians"]
    # 3 points on each of the first 20 centres (all high quality), 10 points far from every one
    on_modes = np.repeat(centers[:20], 3, axis=0) + 0.5 * std
    far = np.full((10, 2), 5.0)
    found = metrics.toy_mode_measures(np.r_[on_modes, far], centers, std)
    assert found == {"modes": 20, "modes_of": 25, "high_quality": pytest.approx(60 / 70)}
    # just outside 3 std is not high quality, and a mode needs min_count such points
    outside = centers[:1] + [3.01 * std, 0]
    assert metrics.toy_mode_measures(outside, centers, std)["high_quality"] == 0
    assert metrics.toy_mode_measures(on_modes, centers, std, min_count=4)["modes"] == 0


@pytest.mark.parametrize("name", ["8gaussians", "25gaussians"])
def test_real_toy_samples_cover_every_mode(name):
    """Also checks TOY_MIXTURES against the sampler: in 2-D, 98.9% fall within 3 std."""
    points = toy_batch(name, 2500, np.random.default_rng(0))
    found = metrics.toy_measures(points, name, seed=1)
    assert found["modes"] == found["modes_of"]
    assert 0.98 < found["high_quality"] <= 1.0
    assert found["sliced_wasserstein"] < 0.05


def test_sliced_wasserstein_grows_with_a_shift():
    points = toy_batch("swissroll", 1000, np.random.default_rng(0)).astype(np.float64)
    assert metrics.sliced_wasserstein(points, points) == 0
    shifts = [metrics.sliced_wasserstein(points, points + d) for d in (0.1, 0.2, 0.4)]
    assert shifts[0] < shifts[1] < shifts[2]
    # a shift by d moves every projection onto u by d.u: the mean of |d.u| over unit u in 2-D
    assert shifts[2] == pytest.approx(0.4 * np.sqrt(2) * 2 / np.pi, rel=0.1)
    with pytest.raises(ValueError, match="equal sample counts"):
        metrics.sliced_wasserstein(points, points[:10])


def test_spearman():
    assert metrics.spearman([1, 2, 3, 4], [10, 20, 30, 1000]) == pytest.approx(1)
    assert metrics.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1)
    assert metrics.spearman([1, 2, 2, 3], [1, 2, 2, 3]) == pytest.approx(1)
    assert metrics.spearman([1, 2], [1, 2]) is None
    assert metrics.spearman([1, 1, 1], [1, 2, 3]) is None


# ----------------------------------------------------------------------------- image measures

@pytest.fixture(scope="module")
def mnist():
    train_images, train_labels = load_images("mnist", "train", MNIST_DIR)
    test_images, test_labels = load_images("mnist", "test", MNIST_DIR)
    return score._unit(train_images), train_labels, score._unit(test_images), test_labels


@pytest.fixture(scope="module")
def tiny_scorer(mnist):
    """A quick classifier (2000 images, 4 epochs: seconds) and the statistics of 2000 test
    digits: enough for the behaviour of the measures, not for their published values."""
    train_x, train_y, test_x, _ = mnist
    model = score.train_classifier(train_x[:2000], train_y[:2000], epochs=4, decay=1.0,
                                   augment=False)
    features, probs = score.classifier_features(model, test_x[:2000])
    mu, cov = metrics.gaussian_stats(features)
    return metrics.ImageScorer(model, 0.0, mu, cov, train_x[2000:3000],
                               metrics.inception_score(probs))


@needs_mnist
def test_fid_of_real_digits_is_near_its_floor(tiny_scorer, mnist):
    _, _, test_x, _ = mnist
    # real test digits the statistics did not see, from the same half of the test set (its
    # first 5000 digits come from other writers than its last 5000)
    held_out = tiny_scorer.score(test_x[2000:3000])
    assert held_out["fid"] < 2 * held_out["fid_floor"]
    noise = np.random.default_rng(0).uniform(size=(1000, 1, 28, 28))
    assert tiny_scorer.score(noise, floor=False)["fid"] > 20 * held_out["fid_floor"]


@needs_mnist
def test_fid_grows_monotonically_with_noise(tiny_scorer, mnist):
    _, _, test_x, _ = mnist
    real = test_x[2000:2500].astype(np.float64)
    noise = np.random.default_rng(0).standard_normal(real.shape)
    fids = [tiny_scorer.score(np.clip(real + level * noise, 0, 1), floor=False)["fid"]
            for level in (0.0, 0.1, 0.2, 0.4, 0.8)]
    assert fids == sorted(fids) and fids[-1] > 5 * fids[0], fids


@needs_mnist
def test_one_class_samples_have_is_about_one_and_one_mode(tiny_scorer, mnist):
    _, _, test_x, test_y = mnist
    ones = test_x[test_y == 1][:400]
    found = tiny_scorer.score(ones, floor=False)
    assert found["modes"] == 1 and found["class_shares"][1] > 0.95
    assert found["inception_score"] < 1.3
    assert found["kl_uniform"] > 0.9 * np.log(10)
    mixed = tiny_scorer.score(test_x[:1000], floor=False)
    assert mixed["modes"] == 10 and mixed["inception_score"] > 5


@needs_mnist
def test_too_few_samples_for_fid(tiny_scorer, mnist):
    with pytest.raises(metrics.MetricsError, match=f"at least {metrics.MIN_FID_SAMPLES} samples"):
        tiny_scorer.score(mnist[2][:metrics.MIN_FID_SAMPLES - 1])


# ----------------------------------------------------------------------------- reading samples

@pytest.mark.parametrize("shape", [(5, 1, 28, 28), (5, 28, 28), (5, 784)])
def test_load_samples_accepts_the_three_layouts(tmp_path, shape):
    path = tmp_path / "s.npz"
    np.savez(path, images=np.full(shape, 0.5, np.float32), labels=np.zeros(5))
    assert metrics.load_samples(path).shape == (5, 1, 28, 28)


@pytest.mark.parametrize("array, message", [
    (np.zeros((5, 27, 27), np.float32), "shape"),
    (np.zeros((5, 784), np.uint8), "dtype"),
    (np.full((5, 784), 255.0), "must be in"),
    (np.full((5, 784), np.nan), "NaN"),
])
def test_load_samples_rejects_bad_arrays_naming_the_file(tmp_path, array, message):
    path = tmp_path / "bad.npz"
    np.savez(path, array)
    with pytest.raises(metrics.MetricsError, match=message) as info:
        metrics.load_samples(path)
    assert "bad.npz" in str(info.value)


def test_load_samples_missing_or_unreadable(tmp_path):
    with pytest.raises(metrics.MetricsError, match="no such samples file"):
        metrics.load_samples(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(metrics.MetricsError, match="junk.npz: not a readable"):
        metrics.load_samples(tmp_path / "junk.npz")


# ----------------------------------------------------------------------------- the CLI

@needs_mnist
def test_cli_scores_a_samples_file_with_json(tmp_path, tiny_scorer, mnist, capsys):
    import minigrad

    classifier = tmp_path / "classifier.npz"
    minigrad.save({"version": score.CLASSIFIER_VERSION, "dataset": "mnist", "test_accuracy": 0.5,
                   "state": tiny_scorer.model.state_dict()}, classifier)
    samples = tmp_path / "samples.npz"
    np.savez(samples, mnist[2][:300].reshape(300, 784))
    out = tmp_path / "result.json"
    assert metrics.main([str(samples), "--data-dir", str(MNIST_DIR), "--classifier",
                         str(classifier), "--json", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    result = json.loads(printed[-1])
    assert {"fid", "inception_score", "modes", "kl_uniform", "n", "fid_floor"} <= set(result)
    assert result["n"] == 300 and json.loads(out.read_text()) == result
    assert any("floor" in line for line in printed) and any("9.9" in line for line in printed)


def test_cli_errors_name_the_file(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    np.savez(bad, np.zeros((3, 5)))
    assert metrics.main([str(bad)]) == 1
    assert "bad.npz" in capsys.readouterr().err
    assert metrics.main([str(tmp_path / "none.npz")]) == 1
    assert "none.npz: no such samples file" in capsys.readouterr().err
    points = tmp_path / "points.npz"
    np.savez(points, np.zeros((10, 2), np.float32))
    assert metrics.main([str(points)]) == 1
    assert "need --dataset" in capsys.readouterr().err


def test_cli_samples_a_toy_run_and_checks_its_step(tmp_path, train_main, capsys):
    run = tmp_path / "toy"
    assert train_main("--dataset", "8gaussians", "--iters", "3", "--batch-size", "16",
                      "--quiet", "--out", str(run))[0] == 0
    assert metrics.main([str(run), "--n", "400", "--json", "--step", "3"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["dataset"] == "8gaussians" and result["n"] == 400
    assert {"modes", "high_quality", "sliced_wasserstein"} <= set(result)
    assert metrics.main([str(run), "--step", "2"]) == 1
    assert "checkpoint is at step 3, not 2" in capsys.readouterr().err
    (run / "checkpoint.npz").unlink()
    assert metrics.main([str(run)]) == 1
    assert "no checkpoint.npz" in capsys.readouterr().err


# ----------------------------------------------------------------------------- during training

def test_eval_every_without_a_number_takes_the_default():
    from wgan.config import DEFAULT_EVAL_EVERY
    from wgan.train import build_parser

    assert build_parser().parse_args(["--eval-every"]).eval_every == DEFAULT_EVAL_EVERY
    assert build_parser().parse_args([]).eval_every is None


def test_eval_samples_below_the_fid_floor_are_refused_before_training(train_main):
    code, _, err = train_main(*TINY_MNIST, "--eval-every", "2", "--eval-samples", "100")
    assert code == 2 and f"needs at least {metrics.MIN_FID_SAMPLES}" in err


def test_eval_every_writes_measures_and_leaves_training_unchanged(tmp_path, train_main):
    common = ["--dataset", "25gaussians", "--iters", "6", "--batch-size", "16", "--quiet"]
    assert train_main(*common, "--out", str(tmp_path / "plain"))[0] == 0
    assert train_main(*common, "--eval-every", "3", "--eval-samples", "300",
                      "--out", str(tmp_path / "eval"))[0] == 0
    plain = read_jsonl(tmp_path / "plain" / "metrics.jsonl")
    evaluated = read_jsonl(tmp_path / "eval" / "metrics.jsonl")
    assert [r["wasserstein"] for r in plain] == [r["wasserstein"] for r in evaluated]
    assert [r["step"] for r in evaluated if "sliced_wasserstein" in r] == [3, 6]
    assert all({"modes", "high_quality", "eval_seconds"} <= set(r) for r in evaluated
               if r["step"] in (3, 6))
    summary = json.loads((tmp_path / "eval" / "quality.json").read_text())
    assert summary["steps"] == [3, 6] and "spearman_w_vs_sliced_wasserstein" in summary
    assert (tmp_path / "eval" / "quality.png").is_file()


@needs_mnist
def test_eval_every_on_mnist_uses_the_cached_classifier(tmp_path, train_main, tiny_scorer,
                                                        monkeypatch):
    import minigrad

    monkeypatch.setenv("HOME", str(tmp_path))  # a tmp cache holding the quick classifier
    images, labels = load_images("mnist", "train", MNIST_DIR)
    path = score.classifier_cache_path("mnist", score.data_checksum(images, labels))
    path.parent.mkdir(parents=True)
    minigrad.save({"version": score.CLASSIFIER_VERSION, "dataset": "mnist", "test_accuracy": 0.5,
                   "data_checksum": score.data_checksum(images, labels),
                   "state": tiny_scorer.model.state_dict()}, path)
    run = tmp_path / "run"
    assert train_main(*TINY_MNIST, "--model", "mlp", "--iters", "2", "--eval-every", "2",
                      "--eval-samples", "256", "--out", str(run))[0] == 0
    assert train_main("--resume", str(run), "--iters", "4", "--eval-every", "2", "--quiet",
                      "--eval-samples", "256")[0] == 0
    records = read_jsonl(run / "metrics.jsonl")
    assert [r["step"] for r in records if "fid" in r] == [2, 4]
    summary = json.loads((run / "quality.json").read_text())
    assert summary["measure"] == "fid" and summary["fid_floor"] > 0


def test_quality_summary_averages_w_over_each_window_and_ranks_it_against_fid():
    records = [{"step": s, "wasserstein": 10.0 - s, "sec_per_step": 0.5} for s in range(1, 7)]
    for record, fid in zip(records[1::2], (30.0, 20.0, 25.0)):
        record.update(fid=fid, eval_seconds=0.25)
    summary = metrics.quality_summary(records, eval_every=2)
    assert summary["steps"] == [2, 4, 6] and summary["values"] == [30.0, 20.0, 25.0]
    assert summary["wasserstein_avg"] == [8.5, 6.5, 4.5]  # the mean of W over steps 1-2, 3-4, 5-6
    assert summary["spearman_w_vs_fid"] == pytest.approx(0.5)
    assert summary["train_seconds"] == 3.0 and summary["eval_seconds"] == 0.75
