"""``python -m wgan.train`` and ``python -m wgan.sample`` end to end on tiny real MNIST."""
import dataclasses
import gzip
import importlib.util
import json
import shutil

import imageio.v3 as iio
import numpy as np
import pytest

from minigrad.serialization import load
from wgan.config import Config
from wgan.models import MODELS
from wgan.train import SETTINGS, build_parser

from .conftest import MNIST_DIR, MNIST_MISSING, TINY_MNIST, needs_mnist, read_jsonl, run_module

IMAGE_MODELS = [name for name, spec in MODELS.items() if spec.data_kind == "image"]
LOSSES = ("gan", "wgan", "wgan-gp")


def test_help_documents_every_option():
    result = run_module("wgan.train", "--help")
    assert result.returncode == 0
    for action in build_parser()._actions:
        for option in action.option_strings:
            assert option in result.stdout
    for name in [*MODELS, *LOSSES, "8gaussians", "fashion-mnist", "checkpoint.npz", "metrics.jsonl"]:
        assert name in result.stdout


def test_every_config_field_is_an_option_and_every_option_a_setting():
    """SETTINGS follows Config; a Config field without its --option (or an option that is
    neither a setting nor one of the run-control options) fails here."""
    assert set(SETTINGS) == {field.name for field in dataclasses.fields(Config)}
    dests = {action.dest for action in build_parser()._actions}
    assert set(SETTINGS) - dests == set(), "Config fields without a command-line option"
    assert dests - set(SETTINGS) == {"help", "out", "resume", "quiet"}


# ----------------------------------------------------------------------------- every loss x model

def check_run_dir(run, iters, model, loss):
    settings = json.loads((run / "config.json").read_text())
    assert settings["settings"]["model"] == model and settings["settings"]["loss"] == loss
    assert settings["meta"]["versions"]["numpy"] == np.__version__
    metrics = read_jsonl(run / "metrics.jsonl")
    assert [m["step"] for m in metrics] == list(range(1, iters + 1))
    for m in metrics:
        assert m["wasserstein"] == pytest.approx(m["d_real"] - m["d_fake"])
        for key in ("critic_loss", "generator_loss", "critic_grad_norm", "generator_grad_norm",
                    "sec_per_step"):
            assert np.isfinite(m[key])
        assert ("gradient_penalty" in m) == (loss == "wgan-gp")
        assert ("critic_class_loss" in m) == MODELS[model].conditional
    assert (run / "samples" / "step_000000.png").is_file()
    assert (run / "samples" / f"step_{iters:06d}.png").is_file()
    for name in ("losses.png", "samples.gif"):
        assert min(iio.improps(run / name, index=0).shape[:2]) >= 60  # a GIF: its first frame
    state = load(run / "checkpoint.npz")
    assert state["step"] == iters
    return state


@needs_mnist
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("model", [pytest.param(m, marks=pytest.mark.slow) if m == "acgan" else m
                                   for m in IMAGE_MODELS])
def test_every_image_model_trains_with_every_loss(model, loss, tmp_path, train_main):
    run = tmp_path / "run"
    heavy = model in ("acgan", "dcgan")  # big 28x28 convolutions: the smallest batch will do
    options = [*TINY_MNIST, "--batch-size", "2" if heavy else "4", "--n-critic", "1" if heavy else "2",
               "--n-samples", "10" if heavy else "16"]
    code, _, err = train_main("--model", model, "--loss", loss, "--iters", "2", "--out", str(run),
                              *options)
    assert code == 0, err
    state = check_run_dir(run, 2, model, loss)
    if loss == "wgan":
        for name, value in state["critic"].items():
            if "running" not in name and "num_batches" not in name:
                assert np.abs(value.numpy()).max() <= 0.01, name


@pytest.mark.parametrize("dataset,loss", [("8gaussians", "wgan-gp"), ("25gaussians", "wgan"),
                                          ("swissroll", "gan")])
def test_toy_datasets(dataset, loss, tmp_path, train_main):
    run = tmp_path / "run"
    code, _, err = train_main("--dataset", dataset, "--loss", loss, "--iters", "2", "--batch-size",
                              "32", "--n-samples", "64", "--out", str(run), "--quiet")
    assert code == 0, err
    check_run_dir(run, 2, "toy-mlp", loss)
    assert iio.improps(run / "samples" / "step_000002.png").shape[:2] == (400, 400)  # critic contours


@needs_mnist
def test_readme_command_in_a_real_process(tmp_path):
    run = tmp_path / "wgangp"
    result = run_module("wgan.train", "--loss", "wgan-gp", "--model", "wgangp-mnist", "--iters", "2",
                        "--out", str(run), "--sample-every", "1", "--checkpoint-every", "1",
                        "--data-dir", str(MNIST_DIR), "--limit-images", "16", "--batch-size", "4",
                        "--n-critic", "1")
    assert result.returncode == 0, result.stderr
    assert "2/2 100%" in result.stderr and "ETA" in result.stderr and "GP" in result.stderr
    assert f"outputs in {run}" in result.stderr
    check_run_dir(run, 2, "wgangp-mnist", "wgan-gp")
    assert sorted(p.name for p in (run / "samples").iterdir()) == \
        ["step_000000.png", "step_000001.png", "step_000002.png"]


@needs_mnist
def test_critic_boost_runs_100_critic_steps_first(tmp_path, train_main):
    run = tmp_path / "run"
    code, _, err = train_main("--model", "mlp", "--loss", "wgan", "--critic-boost", "--iters", "1",
                              "--out", str(run), *TINY_MNIST)
    assert code == 0, err
    assert read_jsonl(run / "metrics.jsonl")[0]["critic_iters"] == 100


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("args,message", [
    (["--model", "resnet"], "invalid choice: 'resnet' (choose from 'mlp', 'dcgan', 'wgangp-mnist'"),
    (["--loss", "wgan-gp", "--clip", "0.01"], "--clip (weight clipping) applies only to --loss wgan"),
    (["--loss", "wgan", "--gp-lambda", "10"], "--gp-lambda"),
    (["--loss", "wgan", "--betas", "0.5", "0.9"], "--betas applies only to --optimizer adam"),
    (["--dataset", "8gaussians", "--model", "mlp"], "--model mlp is for the datasets mnist"),
    (["--iters", "0"], "expected a positive integer"),
    (["--lr", "abc"], "invalid float value"),
])
def test_cli_usage_errors(args, message, tmp_path, train_main):
    code, _, err = train_main(*args, "--out", str(tmp_path / "run"))
    assert code == 2 and message in err, err
    assert not (tmp_path / "run").exists()


@needs_mnist
def test_existing_out_is_refused_and_left_alone(tmp_path, train_main):
    run = tmp_path / "run"
    run.mkdir()
    (run / "keep.txt").write_text("mine")
    code, _, err = train_main("--model", "mlp", "--iters", "1", "--out", str(run), *TINY_MNIST)
    assert code == 1 and "already exists; refusing to overwrite it" in err and "--resume" in err
    assert [p.name for p in run.iterdir()] == ["keep.txt"]


def test_cupy_backend_without_cupy_names_what_is_missing(tmp_path, train_main):
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed here")
    code, _, err = train_main("--dataset", "8gaussians", "--backend", "cupy", "--iters", "1",
                              "--out", str(tmp_path / "run"))
    assert code == 2 and "--backend cupy is not available" in err and "CuPy" in err
    assert not (tmp_path / "run").exists()


@needs_mnist
@pytest.mark.parametrize("damage,message", [
    ("truncate", "truncated"),
    ("corrupt-gzip", "corrupt or truncated gzip data"),
    ("bad-magic", "bad magic number"),
])
def test_corrupt_and_truncated_idx_files_are_clear_errors(damage, message, tmp_path, train_main):
    data = tmp_path / "mnist"
    data.mkdir()
    shutil.copy(MNIST_DIR / "train-labels-idx1-ubyte.gz", data)
    packed = (MNIST_DIR / "train-images-idx3-ubyte.gz").read_bytes()
    if damage == "corrupt-gzip":
        (data / "train-images-idx3-ubyte.gz").write_bytes(packed[:len(packed) // 2])
    else:  # uncompressed files are accepted too (compression is detected from the content)
        raw = gzip.decompress(packed)
        raw = raw[:len(raw) // 2] if damage == "truncate" else b"\x00\x00\x08\x01" + raw[4:]
        (data / "train-images-idx3-ubyte").write_bytes(raw)
    code, _, err = train_main("--model", "mlp", "--iters", "1", "--data-dir", str(data),
                              "--out", str(tmp_path / "run"), "--quiet")
    assert code == 1 and message in err and "train-images-idx3-ubyte" in err, err
    assert not (tmp_path / "run").exists()


@needs_mnist
def test_batch_larger_than_the_data(tmp_path, train_main):
    code, _, err = train_main("--model", "mlp", "--iters", "1", "--data-dir", str(MNIST_DIR),
                              "--batch-size", "100000", "--out", str(tmp_path / "run"), "--quiet")
    assert code == 2 and "larger than the 22699 training images" in err


def test_resume_errors(tmp_path, train_main):
    code, _, err = train_main("--resume", str(tmp_path))
    assert code == 1 and "is not a run directory" in err
    code, _, err = train_main("--resume", str(tmp_path / "a"), "--out", str(tmp_path / "b"))
    assert code == 2 and "--out and --resume name different directories" in err


# ----------------------------------------------------------------------------- wgan.sample

@pytest.fixture(scope="module")
def acgan_run(tmp_path_factory):
    if not MNIST_DIR.is_dir():
        pytest.skip(MNIST_MISSING)
    run = tmp_path_factory.mktemp("acgan") / "run"
    result = run_module("wgan.train", "--model", "acgan", "--loss", "wgan", "--iters", "1",
                        "--n-critic", "1", "--n-samples", "10", "--out", str(run), *TINY_MNIST,
                        "--batch-size", "2")
    assert result.returncode == 0, result.stderr
    return run


@pytest.mark.slow
def test_sample_png_rows_by_class_and_npz(acgan_run, tmp_path):
    png = tmp_path / "grid.png"
    result = run_module("wgan.sample", "--run", str(acgan_run), "--n", "20", "--out", str(png))
    assert result.returncode == 0, result.stderr
    # (height, width): 10 rows x 2 columns (20 / 10 classes) of 28 px, padded, x2
    assert iio.improps(png).shape[:2] == ((10 * 30 + 2) * 2, (2 * 30 + 2) * 2)
    npz = tmp_path / "threes.npz"
    result = run_module("wgan.sample", "--run", str(acgan_run), "--n", "7", "--label", "3",
                        "--out", str(npz))
    assert result.returncode == 0, result.stderr
    with np.load(npz) as d:
        assert d["images"].shape == (7, 1, 28, 28) and d["images"].dtype == np.float32
        assert 0.0 <= d["images"].min() and d["images"].max() <= 1.0
        assert d["labels"].tolist() == [3] * 7


@pytest.mark.slow
def test_sample_errors(acgan_run, tmp_path):
    result = run_module("wgan.sample", "--run", str(acgan_run), "--label", "12",
                        "--out", str(tmp_path / "x.npz"))
    assert result.returncode == 2 and "--label must be a digit 0..9" in result.stderr
    result = run_module("wgan.sample", "--run", str(acgan_run), "--out", str(tmp_path / "x.jpg"))
    assert result.returncode == 2 and "--out must end in .png or .npz" in result.stderr
    result = run_module("wgan.sample", "--run", str(tmp_path), "--out", str(tmp_path / "x.npz"))
    assert result.returncode == 1 and "is not a run directory" in result.stderr


def test_sample_label_needs_a_conditional_model(tmp_path, train_main):
    run = tmp_path / "toy"
    code, _, err = train_main("--dataset", "8gaussians", "--iters", "1", "--batch-size", "16",
                              "--n-samples", "16", "--out", str(run), "--quiet")
    assert code == 0, err
    result = run_module("wgan.sample", "--run", str(run), "--label", "1", "--out", str(tmp_path / "x.npz"))
    assert result.returncode == 2 and "--label needs a class-conditional model" in result.stderr
    result = run_module("wgan.sample", "--run", str(run), "--n", "5", "--out", str(tmp_path / "p.npz"))
    assert result.returncode == 0, result.stderr
    with np.load(tmp_path / "p.npz") as d:
        assert d["points"].shape == (5, 2) and d["points"].dtype == np.float32
