"""minigrad.optim: each update rule against its written formula and against torch.optim."""
import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad import optim
from minigrad.serialization import load, save

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

SHAPES = [(3, 4), (5,)]
STEPS = 20


def start_values(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES]


def gradient_stream(seed=1, steps=STEPS):
    """Per step, one gradient per parameter (fixed in advance, so every implementation sees
    the same ones)."""
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]


def run_minigrad(make_opt, grads, start=None):
    params = [nn.Parameter(mg.tensor(v, dtype="float64")) for v in (start or start_values())]
    opt = make_opt(params)
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = mg.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in params]


def run_torch(make_opt, grads):
    params = [torch.tensor(v, requires_grad=True) for v in start_values()]
    opt = make_opt(params)
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = torch.from_numpy(g.copy())
        opt.step()
    return [p.detach().numpy() for p in params]


def max_relative_error(actual, expected):
    return max(float(np.max(np.abs(a - e)) / np.max(np.abs(e))) for a, e in zip(actual, expected, strict=True))


# ----- the written formulas, one parameter at a time --------------------------------------------
def sgd_formula(grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    params = start_values()
    for i in range(len(params)):
        p, b = params[i].copy(), None
        for step_grads in grads:
            g = step_grads[i] + weight_decay * p
            if momentum:
                b = g.copy() if b is None else momentum * b + (1 - dampening) * g
                g = g + momentum * b if nesterov else b
            p = p - lr * g
        params[i] = p
    return params


def rmsprop_formula(grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                    centered=False, eps_inside_sqrt=False, initial_accumulator_value=0.0):
    params = start_values()
    for i in range(len(params)):
        p = params[i].copy()
        v = np.full_like(p, initial_accumulator_value)
        m, b = np.zeros_like(p), np.zeros_like(p)
        for step_grads in grads:
            g = step_grads[i] + weight_decay * p
            v = alpha * v + (1 - alpha) * g * g
            s = v
            if centered:
                m = alpha * m + (1 - alpha) * g
                s = v - m * m
            d = np.sqrt(s + eps) if eps_inside_sqrt else np.sqrt(s) + eps
            if momentum > 0:
                b = momentum * b + g / d
                p = p - lr * b
            else:
                p = p - lr * g / d
        params[i] = p
    return params


def tf1_rmsprop_formula(grads, lr, decay=0.9, momentum=0.0, epsilon=1e-10, centered=False):
    """tf.compat.v1.train.RMSPropOptimizer as its docstring writes it (lr inside the momentum)."""
    params = start_values()
    for i in range(len(params)):
        p = params[i].copy()
        ms, mg_, mom = np.ones_like(p), np.zeros_like(p), np.zeros_like(p)
        for step_grads in grads:
            g = step_grads[i]
            ms = decay * ms + (1 - decay) * g ** 2
            if centered:
                mg_ = decay * mg_ + (1 - decay) * g
                mom = momentum * mom + lr * g / np.sqrt(ms - mg_ ** 2 + epsilon)
            else:
                mom = momentum * mom + lr * g / np.sqrt(ms + epsilon)
            p = p - mom
        params[i] = p
    return params


def adam_formula(grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    b1, b2 = betas
    params = start_values()
    for i in range(len(params)):
        p = params[i].copy()
        m, v, v_max = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
        for t, step_grads in enumerate(grads, start=1):
            g = step_grads[i] + weight_decay * p
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            v_max = np.maximum(v_max, v)
            m_hat = m / (1 - b1 ** t)
            v_hat = (v_max if amsgrad else v) / (1 - b2 ** t)
            p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        params[i] = p
    return params


SGD_OPTIONS = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
]
RMSPROP_OPTIONS = [
    dict(),
    dict(lr=1e-3, alpha=0.9, weight_decay=0.05),
    dict(lr=1e-3, momentum=0.9),
    dict(lr=1e-3, centered=True),
    dict(lr=5e-4, centered=True, momentum=0.5, weight_decay=0.01, eps=1e-6),
]
ADAM_OPTIONS = [
    dict(),
    dict(lr=1e-2, betas=(0.5, 0.9)),
    dict(lr=1e-2, weight_decay=0.1),
    dict(lr=1e-2, amsgrad=True),
    dict(lr=2e-3, betas=(0.0, 0.99), amsgrad=True, weight_decay=0.01, eps=1e-6),
]
CASES = (
    [("SGD", o, sgd_formula) for o in SGD_OPTIONS]
    + [("RMSprop", o, rmsprop_formula) for o in RMSPROP_OPTIONS]
    + [("Adam", o, adam_formula) for o in ADAM_OPTIONS]
)
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in o.items()) or 'defaults'}" for name, o, _ in CASES]


@pytest.mark.parametrize("name,options,formula", CASES, ids=IDS)
def test_matches_written_formula(name, options, formula):
    grads = gradient_stream()
    ours = run_minigrad(lambda ps: getattr(optim, name)(ps, **options), grads)
    assert max_relative_error(ours, formula(grads, **options)) <= 1e-10


@needs_torch
@pytest.mark.parametrize("name,options,formula", CASES, ids=IDS)
def test_matches_torch_optim(name, options, formula):
    grads = gradient_stream()
    ours = run_minigrad(lambda ps: getattr(optim, name)(ps, **options), grads)
    theirs = run_torch(lambda ps: getattr(torch.optim, name)(ps, **options), grads)
    assert max_relative_error(ours, theirs) <= 1e-10


TF_OPTIONS = [
    dict(lr=5e-5),  # the seed's tf.train.RMSPropOptimizer(learning_rate=5e-5)
    dict(lr=1e-2, momentum=0.9),
    dict(lr=1e-2, centered=True, momentum=0.5),
]


@pytest.mark.parametrize("options", TF_OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_rmsprop_tf1_semantics(options):
    grads = gradient_stream()
    tf_args = dict(lr=options["lr"], momentum=options.get("momentum", 0.0),
                   centered=options.get("centered", False))
    ours = run_minigrad(lambda ps: optim.RMSprop(ps, alpha=0.9, eps=1e-10, eps_inside_sqrt=True,
                                                 initial_accumulator_value=1.0, **options), grads)
    assert max_relative_error(ours, tf1_rmsprop_formula(grads, **tf_args)) <= 1e-10


def test_rmsprop_keras3_semantics_and_eps_placement_matters():
    grads = gradient_stream()
    keras = dict(lr=1e-3, alpha=0.9, eps=1e-7, eps_inside_sqrt=True)
    ours = run_minigrad(lambda ps: optim.RMSprop(ps, **keras), grads)
    assert max_relative_error(ours, rmsprop_formula(grads, **keras)) <= 1e-10
    # with tiny gradients the two placements of a large eps give clearly different steps
    small = [[0.01 * g for g in step] for step in grads]
    inside = run_minigrad(lambda ps: optim.RMSprop(ps, lr=1e-2, eps=1e-3, eps_inside_sqrt=True), small)
    outside = run_minigrad(lambda ps: optim.RMSprop(ps, lr=1e-2, eps=1e-3), small)
    assert max_relative_error(inside, outside) > 1e-4


@pytest.mark.parametrize("name,options", [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("RMSprop", dict(lr=1e-3, centered=True, momentum=0.9)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
])
def test_state_dict_round_trip_mid_run_continues_identically(name, options, tmp_path):
    grads = gradient_stream(steps=20)
    straight = run_minigrad(lambda ps: getattr(optim, name)(ps, **options), grads)

    params = [nn.Parameter(mg.tensor(v)) for v in start_values()]
    opt = getattr(optim, name)(params, **options)
    for step_grads in grads[:10]:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = mg.tensor(g)
        opt.step()
    save({"params": [p.detach() for p in params], "optimizer": opt.state_dict()}, tmp_path / "ckpt.npz")

    ckpt = load(tmp_path / "ckpt.npz")
    resumed = [nn.Parameter(t) for t in ckpt["params"]]
    opt2 = getattr(optim, name)(resumed, **options)
    opt2.load_state_dict(ckpt["optimizer"])
    for step_grads in grads[10:]:
        for p, g in zip(resumed, step_grads, strict=True):
            p.grad = mg.tensor(g)
        opt2.step()
    for a, b in zip(resumed, straight, strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b)  # bit for bit


def test_state_dict_is_plain_data_and_a_snapshot():
    params = [nn.Parameter(mg.tensor(v)) for v in start_values()]
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}], betas=(0.8, 0.9))
    for p in params:
        p.grad = mg.ones(*p.shape, dtype="float64")
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"] == [
        dict(lr=1e-3, betas=(0.8, 0.9), eps=1e-8, weight_decay=0.0, amsgrad=False, params=[0]),
        dict(lr=0.5, betas=(0.8, 0.9), eps=1e-8, weight_decay=0.0, amsgrad=False, params=[1]),
    ]
    assert set(sd["state"]) == {0, 1} and sd["state"][0]["step"] == 1
    assert isinstance(sd["state"][1]["exp_avg"], np.ndarray)
    before = sd["state"][0]["exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], before)  # not aliased to live state


def _adam_with_state():
    params = [nn.Parameter(mg.tensor(v)) for v in start_values()]
    opt = optim.Adam(params)
    for p in params:
        p.grad = mg.ones(*p.shape, dtype="float64")
    opt.step()
    return params, opt


def test_load_state_dict_validates_with_clear_errors():
    params, opt = _adam_with_state()
    sd = opt.state_dict()

    wrong_shape = opt.state_dict()
    wrong_shape["state"][1]["exp_avg"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 1 has shape \(4,\).*\(5,\)"):
        opt.load_state_dict(wrong_shape)

    with pytest.raises(ValueError, match="2 parameters in the state dict and 1"):
        optim.Adam([params[0]]).load_state_dict(sd)
    with pytest.raises(ValueError, match="state dict has 1 parameter group.*optimizer has 2"):
        optim.Adam([{"params": [params[0]]}, {"params": [params[1]]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="different optimizer"):
        optim.SGD(params, lr=0.1).load_state_dict(sd)

    unknown = opt.state_dict()
    unknown["state"][0]["velocity"] = np.zeros((3, 4))
    with pytest.raises(ValueError, match="unexpected state \\['velocity'\\] for parameter 0"):
        opt.load_state_dict(unknown)
    stray = opt.state_dict()
    stray["state"][7] = {}
    with pytest.raises(ValueError, match="state for parameter 7"):
        opt.load_state_dict(stray)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


def test_failed_load_leaves_the_optimizer_unchanged():
    params, opt = _adam_with_state()
    before = opt.state_dict()
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = 123.0
    bad["state"][1]["exp_avg_sq"] = np.zeros(2)
    with pytest.raises(ValueError):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == before["param_groups"][0]["lr"]
    np.testing.assert_array_equal(opt.state[params[1]]["exp_avg_sq"], before["state"][1]["exp_avg_sq"])


def test_load_casts_state_to_the_parameter_dtype():
    params, opt = _adam_with_state()
    sd = opt.state_dict()
    p32 = [nn.Parameter(mg.tensor(v, dtype="float32")) for v in start_values()]
    opt32 = optim.Adam(p32)
    opt32.load_state_dict(sd)
    assert opt32.state[p32[0]]["exp_avg"].dtype == np.float32
    for p in p32:
        p.grad = mg.ones(*p.shape)
    opt32.step()
    assert all(p.dtype == np.float32 for p in p32) and opt32.state[p32[0]]["step"] == 2


def test_param_groups_use_their_own_options():
    a, b = nn.Parameter(mg.zeros(2, dtype="float64")), nn.Parameter(mg.zeros(2, dtype="float64"))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad = b.grad = mg.ones(2, dtype="float64")
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), -0.1)
    np.testing.assert_allclose(b.detach().numpy(), -1.0)


def test_step_updates_in_place_and_leaves_the_gradient_alone():
    p = nn.Parameter(mg.tensor(np.arange(4.0)))
    array = p.array
    grad = mg.tensor([1.0, -1.0, 2.0, 0.5], dtype="float64")
    p.grad = grad
    for opt in (optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1),
                optim.RMSprop([p], centered=True, momentum=0.5, weight_decay=0.1),
                optim.Adam([p], weight_decay=0.1, amsgrad=True)):
        opt.step()
        opt.step()
    assert p.array is array and p.grad is grad
    np.testing.assert_array_equal(grad.numpy(), [1.0, -1.0, 2.0, 0.5])


def test_parameters_without_gradients_are_skipped():
    a, b = nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(2))
    opt = optim.Adam([a, b])
    a.grad = mg.ones(2)
    opt.step()
    assert b not in opt.state and np.all(b.detach().numpy() == 1) and np.all(a.detach().numpy() < 1)


def test_float32_parameters_stay_float32():
    for make in (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), optim.RMSprop, optim.Adam):
        p = nn.Parameter(mg.randn(3))
        opt = make([p])
        p.grad = mg.randn(3)
        opt.step()
        assert p.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[p].values() if hasattr(v, "dtype"))


def test_zero_grad_and_closure():
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = mg.randn(4, 3)

    def closure():
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        return loss

    with mg.no_grad():  # the closure still records a graph
        loss = opt.step(closure)
    assert loss.item() > 0 and model.weight.grad is not None
    opt.zero_grad(set_to_none=False)
    assert not np.any(model.weight.grad.numpy())
    opt.zero_grad()
    assert model.weight.grad is None


def test_constructor_validation():
    p = nn.Parameter(mg.ones(1))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        optim.SGD([p])
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="lr"):
        optim.RMSprop([p], lr=-1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="Tensor"):
        optim.SGD(p, lr=0.1)


def test_training_a_small_model_reduces_the_loss():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    x = mg.randn(64, 2)
    y = (x[:, 0:1] * x[:, 1:2])
    opt = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(150):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


# ----- weight clipping -------------------------------------------------------------------------------
def test_clip_weights_in_place_on_every_parameter():
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 1))
    arrays = [p.array for p in model.parameters()]
    optim.clip_weights_(model.parameters(), 0.01)
    for p, a in zip(model.parameters(), arrays, strict=True):
        assert p.array is a
        assert np.abs(a).max() <= 0.01
    assert np.all(model[1].weight.detach().numpy() == 0.01)  # batch-norm scales (ones) are clipped too
    assert model[1].running_var.numpy().max() == 1.0  # buffers are not parameters


def test_clip_weights_matches_clamp_and_validates():
    p = nn.Parameter(mg.tensor([-1.0, -0.005, 0.0, 0.02, 3.0]))
    optim.clip_weights_(p, 0.01)
    np.testing.assert_array_equal(p.detach().numpy(), np.float32([-0.01, -0.005, 0.0, 0.01, 0.01]))
    with pytest.raises(ValueError):
        optim.clip_weights_([p], 0.0)


def test_wgan_critic_step_with_rmsprop_and_clipping():
    """The seed's loop: RMSprop(5e-5) on the critic, then clip to [-c, c] after each step."""
    mg.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = optim.RMSprop(critic.parameters(), lr=5e-5)
    real, fake = mg.randn(16, 2) + 2.0, mg.randn(16, 2)
    for _ in range(5):
        opt.zero_grad()
        loss = critic(fake).mean() - critic(real).mean()
        loss.backward()
        opt.step()
        optim.clip_weights_(critic.parameters(), 0.01)
    assert all(np.abs(p.detach().numpy()).max() <= 0.01 for p in critic.parameters())
    assert math.isfinite(loss.item())


def _cuda_available() -> bool:
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda_available(), reason="needs CuPy and a CUDA device")
def test_training_on_cuda_matches_cpu_and_checkpoints_across_devices(tmp_path):
    mg.manual_seed(0)
    cpu = nn.Sequential(nn.Linear(3, 8, dtype="float64"), nn.BatchNorm1d(8, dtype="float64"),
                        nn.LeakyReLU(0.2), nn.Linear(8, 1, dtype="float64"))
    gpu = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    gpu.double().load_state_dict(cpu.state_dict())
    gpu.to("cuda")
    assert all(p.device == "cuda" for p in gpu.parameters())
    opts = [optim.RMSprop(m.parameters(), lr=1e-3, momentum=0.5) for m in (cpu, gpu)]
    x = np.random.default_rng(0).standard_normal((16, 3))
    for _ in range(3):
        for m, opt, device in ((cpu, opts[0], "cpu"), (gpu, opts[1], "cuda")):
            opt.zero_grad()
            (m(mg.tensor(x, device=device)) ** 2).mean().backward()
            opt.step()
            optim.clip_weights_(m.parameters(), 0.5)
    save({"model": gpu.state_dict(), "optimizer": opts[1].state_dict()}, tmp_path / "gpu.npz")
    ckpt = load(tmp_path / "gpu.npz")
    for k, v in cpu.state_dict().items():
        np.testing.assert_allclose(ckpt["model"][k].numpy(), v.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)
    opts[0].load_state_dict(ckpt["optimizer"])  # a CUDA optimizer state resumes on the CPU
