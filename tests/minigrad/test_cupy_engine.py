"""The engine on the cupy backend through the CuPy test double: devices, state across devices,
the fused optimizers. The double refuses implicit host conversions and counts launches."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim

pytestmark = pytest.mark.usefixtures("cupy_double")


def test_cuda_is_available_and_tensors_move_both_ways():
    assert mg.cuda.is_available() and mg.cuda.device_count() == 1
    t = mg.tensor([1.0, 2.0])
    g = t.cuda()
    assert g.is_cuda and g.device == mg.device("cuda", 0) and g.device == "cuda"
    assert g.to("cuda:0") is g and g.cuda(0) is g
    back = g.cpu()
    assert not back.is_cuda and back.device == "cpu"
    np.testing.assert_array_equal(back.numpy(), [1.0, 2.0])
    assert mg.zeros(2, device="cuda").is_cuda and mg.randn(2, device=mg.device("cuda:0")).is_cuda


def test_a_gpu_that_does_not_exist_is_named():
    with pytest.raises(RuntimeError, match="device cuda:3 does not exist: CuPy sees 1 GPU"):
        mg.ones(2).to("cuda:3")


def test_an_op_on_two_devices_names_both():
    with pytest.raises(RuntimeError, match="found tensors on cuda:0 and on cpu"):
        mg.ones(2, device="cuda") + mg.ones(2)
    with pytest.raises(RuntimeError, match="found tensors on cpu and on cuda:0"):
        mg.ones(2, 2) @ mg.ones(2, 2, device="cuda")


def _model():
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))


def _train(model, opt, device, steps=2):
    x = mg.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3), device=device)
    for _ in range(steps):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()


def test_state_dicts_optimizers_and_checkpoints_load_across_devices(tmp_path):
    cpu_model, gpu_model = _model(), _model().cuda()
    cpu_opt, gpu_opt = optim.Adam(cpu_model.parameters(), 1e-2), optim.Adam(gpu_model.parameters(), 1e-2)
    _train(cpu_model, cpu_opt, "cpu")
    mg.save({"model": cpu_model.state_dict(), "opt": cpu_opt.state_dict()}, tmp_path / "cpu.npz")
    saved = mg.load(tmp_path / "cpu.npz")
    gpu_model.load_state_dict(saved["model"])  # a CPU checkpoint into a GPU model
    gpu_opt.load_state_dict(saved["opt"])
    assert all(p.is_cuda for p in gpu_model.parameters())
    assert all(v.is_cuda for s in gpu_opt.state.values() for v in s.values() if hasattr(v, "is_cuda"))
    _train(cpu_model, cpu_opt, "cpu")
    _train(gpu_model, gpu_opt, "cuda")
    gpu_state = gpu_model.state_dict()
    assert all(v.is_cuda for v in gpu_state.values())
    back = _model()  # and back: the GPU model's state into a CPU one
    back.load_state_dict(gpu_state)
    for (name, a), b in zip(back.state_dict().items(), cpu_model.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


OPTIMIZERS = {
    "adam": lambda ps: optim.Adam(ps, lr=1e-2, betas=(0.5, 0.9)),
    "amsgrad_wd": lambda ps: optim.Adam(ps, lr=1e-2, weight_decay=0.1, amsgrad=True),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=1e-2),
    "rmsprop_tf_centered_momentum": lambda ps: optim.RMSprop(
        ps, lr=1e-2, alpha=0.9, eps=1e-7, eps_inside_sqrt=True, centered=True, momentum=0.5,
        initial_accumulator_value=1.0),
}


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_fused_optimizers_match_the_cpu_bit_for_bit_in_one_launch(make, cupy_double):
    def run(device):
        mg.manual_seed(1)
        model = nn.Sequential(nn.Linear(3, 5), nn.LeakyReLU(0.2), nn.Linear(5, 2)).to(device)
        opt = make(model.parameters())
        x = mg.tensor(np.linspace(-2, 2, 12, dtype=np.float32).reshape(4, 3), device=device)
        launches = []
        for _ in range(3):
            opt.zero_grad()
            (model(x) ** 2).sum().backward()
            before = cupy_double.counters.raw_launches
            opt.step()
            launches.append(cupy_double.counters.raw_launches - before)
            optim.clip_weights_(model.parameters(), 0.3)
        return [p.detach().cpu().numpy() for p in model.parameters()], launches

    cpu, _ = run("cpu")
    gpu, launches = run("cuda")
    for a, b in zip(cpu, gpu):
        np.testing.assert_array_equal(a, b)
    assert launches == [1, 1, 1]  # every parameter in one launch of our CUDA kernel


def test_weight_clipping_is_one_launch(cupy_double):
    model = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2)).cuda()
    cupy_double.counters.reset()
    optim.clip_weights_(model.parameters(), 0.01)
    assert cupy_double.counters.launches == cupy_double.counters.raw_launches == 1
    assert all(float(p.abs().max()) <= 0.01 for p in model.parameters())


def test_a_gpu_generator_draws_on_the_device_reproducibly(cupy_double):
    a = mg.Generator(5, device="cuda")
    b = mg.Generator(5, device="cuda")
    cupy_double.counters.reset()
    x = mg.randn(4, 3, generator=a)
    assert x.is_cuda and x.dtype == mg.float32
    assert cupy_double.counters.uploads == 0 and cupy_double.counters.raw_launches == 1
    np.testing.assert_array_equal(x.numpy(), mg.randn(4, 3, generator=b).numpy())
    assert not np.array_equal(mg.rand(6, generator=a).numpy(), mg.rand(6, generator=mg.Generator(5)).numpy())


def test_a_gpu_generators_state_checkpoints_and_continues_on_the_cpu():
    g = mg.Generator(7, device="cuda")
    mg.rand(5, generator=g)
    state = g.get_state()
    assert state["bit_generator"] == "Philox4x32-10"
    on_gpu = mg.rand(9, generator=g).numpy()
    g.set_state(state)
    np.testing.assert_array_equal(mg.rand(9, generator=g).numpy(), on_gpu)
    g.set_state(state)  # the same stream computed on the host
    np.testing.assert_array_equal(mg.rand(9, generator=g, device="cpu").numpy(), on_gpu)


def test_a_cpu_generator_gives_the_same_numbers_on_every_device():
    a, b = mg.Generator(3), mg.Generator(3)
    np.testing.assert_array_equal(mg.randn(5, generator=a, device="cuda").numpy(),
                                  mg.randn(5, generator=b).numpy())


def test_the_default_gpu_generator_is_seeded_by_manual_seed():
    mg.manual_seed(11)
    first = mg.rand(4, device="cuda").numpy()
    mg.manual_seed(11)
    np.testing.assert_array_equal(mg.rand(4, device="cuda").numpy(), first)
    values = mg.randint(2, 5, (100,), device="cuda").numpy()
    assert values.dtype == np.int64 and set(values.tolist()) == {2, 3, 4}
