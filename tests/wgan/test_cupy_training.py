"""Training on the cupy backend through the CuPy test double (no GPU): the CLI end to end for
every loss and model, no host sync inside a step, one per logged step, the launch budget of a
WGAN-GP iteration, no float64 from float32, and the NaN/inf guard on fetched metrics."""
import pytest

import minigrad
from minigrad.serialization import load
from wgan import trainer as trainer_module
from wgan.config import LOSSES, resolve_config
from wgan.models import MODELS

from .conftest import MNIST_DIR, TINY_MNIST, needs_mnist, read_jsonl

pytestmark = [needs_mnist, pytest.mark.usefixtures("cupy_double")]

#: our kernel launches in one generator step with its 5 critic steps of WGAN-GP on wgangp-mnist
#: (the count does not depend on the batch size; 1,374 when this was written, ~4,900 before
#: the fused kernels, the cached constants and the multi-tensor norm)
LAUNCH_BUDGET = 1500


def _trainer(loss, model, **settings):
    given = dict(loss=loss, model=model, backend="cupy", batch_size=4, n_critic=2)
    given.update(settings)
    if MODELS[model].data_kind == "image":
        given.update(data_dir=str(MNIST_DIR), limit_images=16)
    else:
        given.update(dataset="8gaussians")
    return trainer_module.make_trainer(resolve_config(given))


# acgan's generator is slow in the emulator (~10 s a step): one loss for it is enough
COMBINATIONS = [(loss, model) for model in sorted(MODELS) for loss in LOSSES
                if model != "acgan" or loss == "wgan-gp"]


@pytest.mark.parametrize("loss, model", COMBINATIONS)
def test_a_step_never_syncs_with_the_host_nor_makes_float64(loss, model, cupy_double):
    trainer = _trainer(loss, model)
    assert all(p.is_cuda for p in trainer.critic.parameters())
    trainer.train_step()  # the first step builds optimizer state and compiles nothing twice
    counters = cupy_double.counters
    counters.reset()
    metrics = trainer.critic_step()
    assert counters.syncs == 0, f"critic step synced {counters.syncs} times"
    metrics.update(trainer.generator_step())
    assert counters.syncs == 0, f"generator step synced {counters.syncs} times"
    assert counters.float64_from_float32 == []
    assert all(v.is_cuda for v in metrics.values())


def test_a_wgan_gp_iteration_stays_within_the_launch_budget(cupy_double):
    trainer = _trainer("wgan-gp", "wgangp-mnist", n_critic=5)
    trainer.train_step()
    cupy_double.counters.reset()
    trainer.train_step()
    launches = cupy_double.counters.launches
    assert launches <= LAUNCH_BUDGET, f"{launches} kernel launches per WGAN-GP iteration"


@pytest.mark.parametrize("loss, model", [("wgan-gp", "wgangp-mnist"), ("wgan", "dcgan"),
                                         ("wgan-gp", "mlp"), ("gan", "keras-critic"), ("gan", "toy-mlp")])
def test_the_cli_trains_on_the_gpu_backend_syncing_once_per_logged_step(
        loss, model, tmp_path, train_main, cupy_double, monkeypatch):
    fetches, step_syncs = [], []
    real_fetch, real_step = trainer_module.fetch_records, trainer_module.Trainer.train_step

    def counted_fetch(records):
        before = cupy_double.counters.syncs
        out = real_fetch(records)
        fetches.append(cupy_double.counters.syncs - before)
        return out

    def counted_step(self):
        before = cupy_double.counters.syncs
        out = real_step(self)
        step_syncs.append(cupy_double.counters.syncs - before)
        return out

    monkeypatch.setattr("wgan.run.fetch_records", counted_fetch)
    monkeypatch.setattr(trainer_module.Trainer, "train_step", counted_step)
    run = tmp_path / "run"
    data = (TINY_MNIST if MODELS[model].data_kind == "image"
            else ["--dataset", "8gaussians", "--batch-size", "4", "--quiet"])
    code, _, err = train_main("--backend", "cupy", "--loss", loss, "--model", model, "--iters", "4",
                              "--n-critic", "1", "--log-every", "2", "--out", str(run), *data)
    assert code == 0, err
    assert [m["step"] for m in read_jsonl(run / "metrics.jsonl")] == [1, 2, 3, 4]
    assert step_syncs == [0, 0, 0, 0]
    assert fetches[:2] == [1, 1]  # steps 1-2 and 3-4, each in one transfer
    assert load(run / "checkpoint.npz")["step"] == 4


def test_a_nan_on_the_gpu_is_found_at_the_fetch_and_the_last_good_checkpoint_kept(
        tmp_path, train_main, monkeypatch):
    calls = []
    real_critic_loss = trainer_module.losses.critic_loss

    def poisoned(loss, real, fake):
        calls.append(1)
        value = real_critic_loss(loss, real, fake)
        return value * float("nan") if len(calls) == 3 else value  # 1 critic step per gen step

    monkeypatch.setattr(trainer_module.losses, "critic_loss", poisoned)
    run = tmp_path / "run"
    code, _, err = train_main("--backend", "cupy", "--model", "mlp", "--n-critic", "1", "--iters", "8",
                              "--log-every", "4", "--checkpoint-every", "2", "--out", str(run), *TINY_MNIST)
    assert code == 1
    assert "non-finite critic loss (nan) at generator step 3" in err
    assert "steps up to 4 were fetched" in err
    assert f"last good checkpoint, {run / 'checkpoint.npz'}, is at step 2" in err
    assert load(run / "checkpoint.npz")["step"] == 2
    assert [m["step"] for m in read_jsonl(run / "metrics.jsonl")] == [1, 2]


def test_a_cpu_run_resumes_on_the_gpu_and_back(tmp_path, train_main):
    run = tmp_path / "run"
    assert train_main("--model", "mlp", "--n-critic", "1", "--iters", "2", "--out", str(run),
                      *TINY_MNIST)[0] == 0
    code, _, err = train_main("--resume", str(run), "--iters", "3", "--backend", "cupy", "--quiet")
    assert code == 0, err
    code, _, err = train_main("--resume", str(run), "--iters", "4", "--backend", "numpy", "--quiet")
    assert code == 0, err
    assert minigrad.load(run / "checkpoint.npz")["step"] == 4
    assert [m["step"] for m in read_jsonl(run / "metrics.jsonl")] == [1, 2, 3, 4]


def test_out_of_memory_names_the_step_and_the_batch_size_and_keeps_the_checkpoint(
        tmp_path, train_main, monkeypatch):
    real_step = trainer_module.Trainer.critic_step

    def exhausted(self):
        if self.step == 2:
            raise MemoryError("Out of memory allocating 1,024 bytes")  # what CuPy's subclass says
        return real_step(self)

    monkeypatch.setattr(trainer_module.Trainer, "critic_step", exhausted)
    run = tmp_path / "run"
    code, _, err = train_main("--backend", "cupy", "--model", "mlp", "--n-critic", "1", "--iters", "4",
                              "--checkpoint-every", "2", "--out", str(run), *TINY_MNIST)
    assert code == 1
    assert "out of memory in generator step 3 with --batch-size 4 on cuda" in err
    assert f"last good checkpoint, {run / 'checkpoint.npz'}, is at step 2" in err
    assert load(run / "checkpoint.npz")["step"] == 2
