"""The fused multi-tensor optimizer kernels (kernels/cuda/optim.cu) on the host emulator
(and a GPU when there is one), against minigrad.optim itself, bit for bit.

Each case steps minigrad's optimizer and the kernel side by side for a few steps, from the
same parameters and gradients, over parameters of several shapes updated in one launch,
and compares parameters and every state array with array_equal, in float64 and float32.
"""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from tests.kernels.cuda_targets import target  # noqa: F401 - the fixture

SHAPES = [(3, 4), (5,), (2, 1, 3, 3), (1,)]
DTYPES = [np.float32, np.float64]
STEPS = 3


def _lockstep(target, dtype, make_optimizer, kernel_step, state_names, seed):
    """Runs STEPS steps of the minigrad optimizer and of ``kernel_step(params, grads, state,
    step)`` on device copies, then compares parameters and state."""
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    tensors = [mg.tensor(a.copy(), requires_grad=True) for a in start]
    opt = make_optimizer(tensors)
    params = [target.to_device(a.copy()) for a in start]
    state = {name: [target.to_device(np.zeros(s, dtype)) for s in SHAPES] for name in state_names}
    if "square_avg" in state and opt.defaults.get("initial_accumulator_value"):
        initial = opt.defaults["initial_accumulator_value"]
        state["square_avg"] = [target.to_device(np.full(s, initial, dtype)) for s in SHAPES]
    for step in range(1, STEPS + 1):
        grads = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        for t, g in zip(tensors, grads):
            t.grad = mg.tensor(g)
        opt.step()
        kernel_step(params, [target.to_device(g) for g in grads], state, step)
    for i, t in enumerate(tensors):
        np.testing.assert_array_equal(target.to_host(params[i]), t.detach().numpy(), err_msg=f"param {i}")
        for name in state_names:
            np.testing.assert_array_equal(target.to_host(state[name][i]), opt.state[t][name],
                                          err_msg=f"{name} {i}")


ADAM = [dict(), dict(weight_decay=0.1), dict(amsgrad=True, betas=(0.5, 0.9), lr=1e-2),
        dict(amsgrad=True, weight_decay=0.01, eps=1e-3)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("settings", ADAM, ids=["default", "weight_decay", "amsgrad", "amsgrad_wd"])
def test_adam_matches_minigrad_bit_for_bit(target, dtype, settings):
    amsgrad = settings.get("amsgrad", False)
    names = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if amsgrad else [])
    full = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False) | settings

    def kernel_step(params, grads, state, step):
        target.kernels.adam_(params, grads, state["exp_avg"], state["exp_avg_sq"],
                             state.get("max_exp_avg_sq"), step=step, **full)
    _lockstep(target, dtype, lambda ps: optim.Adam(ps, **full), kernel_step, names, seed=len(str(settings)))


RMSPROP = [
    dict(),                                                              # PyTorch's defaults
    dict(alpha=0.9, eps=1e-10, eps_inside_sqrt=True, initial_accumulator_value=1.0),  # TF1
    dict(alpha=0.9, eps=1e-7, eps_inside_sqrt=True),                     # Keras 3
    dict(centered=True, momentum=0.5),
    dict(centered=True, eps_inside_sqrt=True, weight_decay=0.05),
    dict(momentum=0.9, weight_decay=0.01),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("settings", RMSPROP, ids=["torch", "tf1", "keras3", "centered_momentum",
                                                   "centered_tf_wd", "momentum_wd"])
def test_rmsprop_matches_minigrad_bit_for_bit(target, dtype, settings):
    settings = dict(lr=5e-3) | settings
    names = (["square_avg"] + (["grad_avg"] if settings.get("centered") else [])
             + (["momentum_buffer"] if settings.get("momentum", 0) > 0 else []))
    kernel_settings = {k: v for k, v in settings.items() if k != "initial_accumulator_value"}

    def kernel_step(params, grads, state, step):
        target.kernels.rmsprop_(params, grads, state["square_avg"], state.get("grad_avg"),
                                state.get("momentum_buffer"), **kernel_settings)
    _lockstep(target, dtype, lambda ps: optim.RMSprop(ps, **settings), kernel_step, names,
              seed=len(str(settings)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_matches_clip_weights_and_keeps_nan(target, dtype):
    rng = np.random.default_rng(1)
    arrays = [(rng.standard_normal(s) * 0.02).astype(dtype) for s in SHAPES]
    arrays[0].reshape(-1)[:3] = [np.nan, np.inf, -np.inf]
    tensors = [mg.tensor(a.copy(), requires_grad=True) for a in arrays]
    optim.clip_weights_(tensors, 0.01)
    params = [target.to_device(a.copy()) for a in arrays]
    target.kernels.clip_(params, 0.01)
    for p, t in zip(params, tensors):
        np.testing.assert_array_equal(target.to_host(p), t.detach().numpy())
    assert np.isnan(target.to_host(params[0]).reshape(-1)[0])


def test_multi_tensor_arguments_are_checked(target):
    dev = target.to_device
    params = [dev(np.zeros((2, 2))), dev(np.zeros(3))]
    grads = [dev(np.zeros((2, 2))), dev(np.zeros(4))]
    with pytest.raises(ValueError, match=r"array 1 of tensor list 1 must be a C-contiguous float64 "
                                         r"array of shape \(3,\)"):
        target.kernels.rmsprop_(params, grads, [dev(np.zeros((2, 2))), dev(np.zeros(3))], lr=0.1)
    with pytest.raises(ValueError, match="tensor list 2 has 1 arrays for 2 parameters"):
        target.kernels.rmsprop_(params, params, [params[0]], lr=0.1)
    with pytest.raises(TypeError, match="one dtype"):
        target.kernels.clip_([params[0], dev(np.zeros(2, np.float32))], 0.1)
    with pytest.raises(ValueError, match="clip_value must be positive"):
        target.kernels.clip_(params, 0.0)
    with pytest.raises(ValueError, match="no parameters"):
        target.kernels.clip_([], 0.1)
