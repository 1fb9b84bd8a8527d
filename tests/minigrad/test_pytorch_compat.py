"""The PyTorch forms that training scripts reach for: torch.Tensor's constructor, the legacy
tensor types, Variable, autograd.grad's only_inputs, the loss layers, gradient clipping,
learning-rate schedules, nn.parallel and the cudnn stand-in; each against torch when installed."""
import math
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def test_tensor_constructor_casts_to_float32_as_torch_does():
    t = mg.Tensor(np.arange(3.0))  # float64 in, float32 out
    assert t.dtype == np.float32 and t.tolist() == [0.0, 1.0, 2.0]
    assert mg.Tensor([1, 2]).dtype == np.float32
    assert mg.Tensor(np.arange(3)).dtype == np.float32


def test_tensor_constructor_shares_a_float32_array_and_a_tensor():
    a = np.zeros(3, np.float32)
    assert mg.Tensor(a).array is a
    ints = mg.arange(3)
    assert mg.Tensor(ints).array is ints.array and mg.Tensor(ints).dtype == np.int64


def test_tensor_constructor_from_sizes():
    assert mg.Tensor(2, 3).shape == (2, 3) and mg.Tensor(2, 3).dtype == np.float32
    assert mg.Tensor().shape == (0,)
    assert mg.Tensor(np.int64(4)).shape == (4,)


def test_tensor_constructor_rejects_mixed_arguments():
    with pytest.raises(TypeError, match="expected data .* or sizes"):
        mg.Tensor([1.0], 2)


def test_as_tensor_and_from_numpy_keep_the_dtype():
    a = np.zeros(2)
    assert mg.from_numpy(a).dtype == np.float64 and mg.from_numpy(a).array is a
    assert mg.as_tensor(a).dtype == np.float64


@pytest.mark.parametrize("name, dtype", [("FloatTensor", np.float32), ("DoubleTensor", np.float64),
                                         ("LongTensor", np.int64), ("ByteTensor", np.uint8)])
def test_legacy_types_construct_from_arrays_lists_and_sizes(name, dtype):
    T = getattr(mg, name)
    assert T(np.ones(2)).dtype == dtype and T([1, 2]).tolist() == [1, 2]
    assert T(2, 3).shape == (2, 3) and T(2, 3).dtype == dtype
    assert isinstance(T(2), T) and isinstance(T(2), mg.Tensor)


def test_legacy_types_are_types_for_isinstance():
    assert isinstance(mg.zeros(2), mg.FloatTensor)
    assert not isinstance(mg.zeros(2, dtype="float64"), mg.FloatTensor)
    assert not isinstance(np.zeros(2, np.float32), mg.FloatTensor)
    assert repr(mg.FloatTensor) == "<class 'minigrad.FloatTensor'>"


def test_type_names_and_converts():
    x = mg.zeros(2, dtype="float64")
    assert x.type() == "minigrad.DoubleTensor" and mg.arange(2).type() == "minigrad.LongTensor"
    assert x.type(mg.FloatTensor).dtype == np.float32
    assert x.type("torch.LongTensor").dtype == np.int64
    assert x.type("float32").dtype == np.float32
    assert x.type(mg.DoubleTensor) is x


def test_type_conversion_to_float_is_differentiable():
    x = mg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    x.type(mg.FloatTensor).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_type_rejects_unknown_names():
    with pytest.raises(TypeError, match="unknown type 'torch.QuaternionTensor'"):
        mg.zeros(1).type("torch.QuaternionTensor")


def test_variable_is_the_tensor():
    t = mg.zeros(2)
    assert mg.autograd.Variable(t) is t and not t.requires_grad
    assert mg.autograd.Variable(t, requires_grad=True) is t and t.requires_grad
    with pytest.raises(TypeError, match="Variable: expected a Tensor"):
        mg.autograd.Variable(np.zeros(2))


def test_autograd_grad_takes_only_inputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = mg.autograd.grad((x * x).sum(), x, only_inputs=True)
    assert g.tolist() == [2.0, 4.0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mg.autograd.grad((x * x).sum(), x, only_inputs=False)
    assert any("only_inputs is deprecated" in str(w.message) for w in caught)


def test_cuda_legacy_types_exist_and_hold_no_cpu_tensor():
    assert mg.cuda.FloatTensor.dtype == np.float32 and mg.cuda.FloatTensor.device == "cuda"
    assert not isinstance(mg.zeros(2), mg.cuda.FloatTensor)
    assert repr(mg.cuda.LongTensor) == "<class 'minigrad.cuda.LongTensor'>"


# ----- loss layers ----------------------------------------------------------------------------
PROBS = np.array([[0.1, 0.8, 0.5], [0.9, 0.3, 0.6]])
TARGETS = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.3]])
LOSS_LAYERS = [
    ("BCELoss", {}, PROBS, TARGETS),
    ("BCELoss", {"reduction": "sum"}, PROBS, TARGETS),
    ("BCEWithLogitsLoss", {"reduction": "none"}, PROBS * 4 - 2, TARGETS),
    ("MSELoss", {}, PROBS, TARGETS),
    ("L1Loss", {"reduction": "sum"}, PROBS, TARGETS),
    ("CrossEntropyLoss", {}, PROBS, np.array([2, 0])),
]


@needs_torch
@pytest.mark.parametrize("name, kwargs, x, y", LOSS_LAYERS,
                         ids=[f"{n}-{k.get('reduction', 'mean')}" for n, k, _, _ in LOSS_LAYERS])
def test_loss_layers_match_torch(name, kwargs, x, y):
    ours = getattr(nn, name)(**kwargs)(mg.from_numpy(x), mg.from_numpy(y))
    theirs = getattr(torch.nn, name)(**kwargs)(torch.from_numpy(x), torch.from_numpy(y))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_weighted_loss_keeps_its_weight_as_a_buffer():
    loss = nn.BCELoss(weight=mg.tensor([1.0, 0.0]))
    assert list(loss.state_dict()) == ["weight"]
    assert loss(mg.tensor([0.5, 0.5]), mg.tensor([1.0, 1.0])).item() == pytest.approx(math.log(2) / 2)
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"


# ----- gradient clipping ---------------------------------------------------------------------
def _two_parameters_with_grads(lib, scale):
    a = lib.nn.Parameter(lib.zeros(2, 3))
    b = lib.nn.Parameter(lib.zeros(4))
    a.grad = lib.ones(2, 3) * scale
    b.grad = lib.ones(4) * -2 * scale
    return [a, b]


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("scale", [0.01, 10.0], ids=["under", "over"])
def test_clip_grad_norm_matches_torch(norm_type, scale):
    ours, theirs = _two_parameters_with_grads(mg, scale), _two_parameters_with_grads(torch, scale)
    total = nn.utils.clip_grad_norm_(ours, max_norm=1.0, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.0, norm_type=norm_type)
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)


def test_clip_grad_norm_changes_the_gradients_in_place_and_no_other_leaf_s():
    a, b = mg.tensor([3.0, 4.0], requires_grad=True), mg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # one gradient array reaches both leaves
    grad = a.grad
    nn.utils.clip_grad_norm_([a], max_norm=0.5)
    assert a.grad is grad and a.grad.tolist() == pytest.approx([0.5 / math.sqrt(2)] * 2)
    assert b.grad.tolist() == [1.0, 1.0]


def test_clip_grad_norm_can_refuse_a_nonfinite_norm():
    p = nn.Parameter(mg.zeros(2))
    p.grad = mg.tensor([math.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([], 1.0).item() == 0.0


def test_clip_grad_value():
    p = nn.Parameter(mg.zeros(3))
    p.grad = mg.tensor([-2.0, 0.5, 3.0])
    nn.utils.clip_grad_value_(p, 1.0)
    assert p.grad.tolist() == [-1.0, 0.5, 1.0]


# ----- learning-rate schedules ---------------------------------------------------------------
SCHEDULES = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("LambdaLR", {"lr_lambda": lambda it: max(0.0, 1.0 - it / 7)}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 6}),
    ("LinearLR", {}),
]


def _rates(lib, name, kwargs, steps=10):
    params = [lib.nn.Parameter(lib.zeros(1)), lib.nn.Parameter(lib.zeros(1))]
    opt = lib.optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.01}], lr=1e-3)
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
    rates = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        rates.append(sched.get_last_lr())
    return rates, [g["lr"] for g in opt.param_groups]


@needs_torch
@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=["StepLR", "LambdaLR", "LinearLR-to-0", "LinearLR"])
def test_schedules_match_torch(name, kwargs):
    ours, ours_final = _rates(mg, name, kwargs)
    theirs, theirs_final = _rates(torch, name, kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours_final, theirs_final, rtol=1e-12, atol=1e-15)


def test_schedule_state_round_trips_as_plain_data():
    opt = mg.optim.SGD([nn.Parameter(mg.zeros(1))], lr=1.0)
    sched = mg.optim.lr_scheduler.StepLR(opt, step_size=2)
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    fresh = mg.optim.lr_scheduler.StepLR(mg.optim.SGD([nn.Parameter(mg.zeros(1))], lr=1.0), step_size=2)
    fresh.load_state_dict(state)
    assert fresh.last_epoch == 3 and fresh.get_last_lr() == sched.get_last_lr()


def test_schedule_arguments_are_checked():
    opt = mg.optim.SGD([nn.Parameter(mg.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match="step_size must be a positive int"):
        mg.optim.lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="start_factor must be in"):
        mg.optim.lr_scheduler.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="expected 1 lr_lambdas"):
        mg.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0, lambda e: 1.0])
    with pytest.raises(TypeError, match="needs an Optimizer"):
        mg.optim.lr_scheduler.StepLR(object(), step_size=1)


# ----- nn.parallel and the cudnn stand-in ----------------------------------------------------
def test_data_parallel_runs_the_module_once_on_the_whole_batch():
    layer = nn.Linear(3, 2)
    x = mg.ones(4, 3)
    expected = layer(x).detach().numpy()
    np.testing.assert_array_equal(nn.parallel.data_parallel(layer, x, [0, 1]).detach().numpy(), expected)
    wrapped = nn.DataParallel(layer, device_ids=[0])
    np.testing.assert_array_equal(wrapped(x).detach().numpy(), expected)
    assert list(wrapped.state_dict()) == ["module.weight", "module.bias"]


def test_cudnn_settings_exist_and_change_nothing():
    import minigrad.backends.cudnn as cudnn
    cudnn.benchmark = True
    assert mg.backends.cudnn is cudnn and not cudnn.is_available()
    cudnn.benchmark = False
