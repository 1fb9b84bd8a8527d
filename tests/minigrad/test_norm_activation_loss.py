"""Normalisation, activations and losses: every op and setting declared once (the forward
against a NumPy reference, orders 1-3 by finite differences, PyTorch in float64 and
float32), then the behaviour the declarations
cannot express: running statistics, extreme logits, non-smooth points, dropout masks and
the WGAN-GP gradient penalty against PyTorch."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function
from minigrad.gradcheck import GradcheckError, gradcheck_order
from minigrad.ops.activation import dropout, elu, leaky_relu, log_softmax, softmax, softplus
from minigrad.ops.loss import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, gradient_penalty, l1_loss,
    mse_loss, safe_norm,
)
from minigrad.ops.norm import batch_norm, layer_norm
from tests import reference
from tests.opcheck import (
    OpCase, case_params, check_against_torch, check_forward, check_gradients, relative_error, shapes,
)

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = F = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def is_mg(t) -> bool:
    return isinstance(t, mg.Tensor)


def const(like, values):
    """A constant (no grad) of ``like``'s library, dtype and device, so a case runs in float32
    and on the GPU too."""
    if is_mg(like):
        return mg.tensor(np.asarray(values, dtype=like.dtype), device=like.device)
    return torch.tensor(np.asarray(values), dtype=like.dtype)


def np_dtype(t) -> str:
    return str(t.dtype).replace("torch.", "")


# ----- batch_norm and layer_norm ---------------------------------------------------------------
RUNNING_MEAN = np.array([0.1, -0.3, 0.5])
RUNNING_VAR = np.array([0.5, 1.2, 2.0])


def bn_case(x_shape, training, affine, **kw):
    channels = x_shape[1]
    rm, rv = RUNNING_MEAN[:channels], RUNNING_VAR[:channels]

    def call(lib_bn, x, w=None, b=None):
        if training:  # fresh running stats each call: the output must not depend on them
            return lib_bn(x, const(x, rm), const(x, rv), w, b, training=True, momentum=0.2)
        return lib_bn(x, const(x, rm), const(x, rv), w, b, training=False)

    make = shapes(x_shape, (channels,), (channels,)) if affine else shapes(x_shape)
    return OpCase(
        f"batch_norm_{'train' if training else 'eval'}{'_affine' if affine else ''}{x_shape}",
        lambda *a: call(batch_norm, *a), make, torch_fn=lambda *a: call(F.batch_norm, *a),
        forward_expected=lambda x, *wb: reference.batch_norm(x, rm, rv, *wb, training=training), **kw,
    )


def ln_case(name, x_shape, k, affine, **kw):
    normalized = x_shape[len(x_shape) - k:]
    make = shapes(x_shape, normalized, normalized) if affine else shapes(x_shape)
    return OpCase(
        f"layer_norm_{name}{'_affine' if affine else ''}{x_shape}",
        lambda x, *wb: layer_norm(x, normalized, *wb),
        make,
        torch_fn=lambda x, *wb: F.layer_norm(x, normalized, *wb),
        forward_expected=lambda x, *wb: reference.layer_norm(x, normalized, *wb),
        **kw,
    )


NORM_CASES = [
    bn_case((4, 3), training=True, affine=True),
    bn_case((4, 3), training=True, affine=False),
    bn_case((2, 2, 3), training=True, affine=True),
    bn_case((2, 3, 2, 2), training=True, affine=True, fast_from_order=2),
    bn_case((2, 2, 2, 2), training=True, affine=False, fast_from_order=2),
    bn_case((4, 3), training=False, affine=True),
    bn_case((4, 3), training=False, affine=False),
    bn_case((1, 3), training=False, affine=True),
    bn_case((1, 3, 2, 2), training=False, affine=True),
    bn_case((1, 2, 2, 2), training=False, affine=False),
    ln_case("last", (3, 4), 1, affine=True),
    ln_case("last", (3, 4), 1, affine=False),
    ln_case("3dims", (2, 2, 2, 3), 3, affine=True, fast_from_order=2),
    ln_case("3dims", (2, 2, 2, 2), 3, affine=False, fast_from_order=2),
]


# ----- activations -----------------------------------------------------------------------------
def torch_dropout_fixed_mask(x, p, seed):
    """The mask minigrad's dropout draws from Generator(seed), applied in torch."""
    u = mg.rand(*x.shape, generator=mg.Generator(seed), dtype=np_dtype(x)).numpy()
    mask = (u < 1.0 - p).astype(u.dtype) * u.dtype.type(1.0 / (1.0 - p))
    return x * torch.from_numpy(mask)


def dropout_expected(x, p, seed):
    """x / (1 - p) where the uniform draw u of Generator(seed) is < 1 - p, else 0."""
    u = mg.rand(*x.shape, generator=mg.Generator(seed), dtype="float64").numpy()
    return np.where(u < 1.0 - p, x / (1.0 - p), 0.0)


def dropout_case(shape, p, seed=7):
    # a new generator with the same seed in every call: every evaluation draws the same mask
    return OpCase(
        f"dropout_p{p}{shape}",
        lambda x: dropout(x, p, training=True, generator=mg.Generator(seed)),
        shapes(shape),
        torch_fn=lambda x: torch_dropout_fixed_mask(x, p, seed),
        forward_expected=lambda x: dropout_expected(x, p, seed),
    )


def unary(name, ours, theirs, expected, shape=(3, 4), **kw):
    return OpCase(f"{name}{shape}", ours, shapes(shape, **kw), torch_fn=theirs,
                  forward_expected=expected)


ACTIVATION_CASES = [
    unary("leaky_relu", leaky_relu, lambda x: F.leaky_relu(x), reference.leaky_relu),
    unary("leaky_relu_0.2", lambda x: leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2),
          lambda x: reference.leaky_relu(x, 0.2)),
    unary("softplus", softplus, F.softplus if F else None, reference.softplus, low=-4, high=4),
    unary("softplus_beta2_threshold1", lambda x: softplus(x, 2.0, 1.0), lambda x: F.softplus(x, 2.0, 1.0),
          lambda x: reference.softplus(x, 2.0, 1.0)),
    unary("elu", elu, F.elu if F else None, reference.elu),
    unary("elu_alpha1.5", lambda x: elu(x, 1.5), lambda x: F.elu(x, 1.5), lambda x: reference.elu(x, 1.5)),
    dropout_case((3, 4), 0.4),
    dropout_case((2, 3, 2), 0.5),
    unary("log_softmax_dim1", lambda x: log_softmax(x, 1), lambda x: F.log_softmax(x, 1),
          lambda x: reference.log_softmax(x, 1)),
    unary("log_softmax_dim0", lambda x: log_softmax(x, 0), lambda x: F.log_softmax(x, 0),
          lambda x: reference.log_softmax(x, 0)),
    unary("softmax_dim1", lambda x: softmax(x, 1), lambda x: F.softmax(x, 1),
          lambda x: reference.softmax(x, 1)),
    unary("softmax_dim-1", lambda x: softmax(x, -1), lambda x: F.softmax(x, -1),
          lambda x: reference.softmax(x, -1), shape=(2, 2, 3)),
]


# ----- losses ----------------------------------------------------------------------------------
REDUCTION_NAMES = ("mean", "sum", "none")
BCE_WEIGHT = np.array([0.5, 1.0, 2.0, 0.0])


def logits_and_probabilities(shape):
    return lambda r: [r.uniform(-3, 3, shape), r.uniform(0, 1, shape)]


def probabilities_and_targets(shape):
    """Probabilities away from 0 and 1 (finite differences step across no clamp) and soft
    targets, both differentiated (torch differentiates the target of binary_cross_entropy)."""
    return lambda r: [r.uniform(0.05, 0.95, shape), r.uniform(0, 1, shape)]


def logits_and_classes(n, classes):
    return lambda r: [r.uniform(-2, 2, (n, classes)), r.integers(0, classes, n)]


def loss_cases(reduction):
    return [
        OpCase(f"bce_with_logits_{reduction}",
               lambda x, t: binary_cross_entropy_with_logits(x, t, reduction=reduction),
               logits_and_probabilities((3, 4)),
               torch_fn=lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
               forward_expected=lambda x, t: reference.binary_cross_entropy_with_logits(
                   x, t, reduction=reduction)),
        # PyTorch does not differentiate weight, so it is a constant here
        OpCase(f"bce_with_logits_weight_{reduction}",
               lambda x, t: binary_cross_entropy_with_logits(x, t, const(x, BCE_WEIGHT), reduction),
               logits_and_probabilities((3, 4)),
               torch_fn=lambda x, t: F.binary_cross_entropy_with_logits(
                   x, t, const(x, BCE_WEIGHT), reduction=reduction),
               forward_expected=lambda x, t: reference.binary_cross_entropy_with_logits(
                   x, t, BCE_WEIGHT, reduction)),
        OpCase(f"cross_entropy_{reduction}",
               lambda x, t: cross_entropy(x, t, reduction=reduction),
               logits_and_classes(4, 5), nondiff=(1,),
               torch_fn=lambda x, t: F.cross_entropy(x, t, reduction=reduction),
               forward_expected=lambda x, t: reference.cross_entropy(x, t, reduction)),
        OpCase(f"bce_{reduction}", lambda p, t: binary_cross_entropy(p, t, reduction=reduction),
               probabilities_and_targets((3, 4)),
               torch_fn=lambda p, t: F.binary_cross_entropy(p, t, reduction=reduction),
               forward_expected=lambda p, t: reference.binary_cross_entropy(p, t, reduction=reduction)),
        OpCase(f"bce_weight_{reduction}",
               lambda p, t: binary_cross_entropy(p, t, const(p, BCE_WEIGHT), reduction),
               probabilities_and_targets((3, 4)),
               torch_fn=lambda p, t: F.binary_cross_entropy(p, t, const(p, BCE_WEIGHT), reduction=reduction),
               forward_expected=lambda p, t: reference.binary_cross_entropy(p, t, BCE_WEIGHT, reduction)),
        OpCase(f"l1_loss_{reduction}",
               lambda x, y: l1_loss(x, y, reduction=reduction), shapes((3, 4), (4,)),
               torch_fn=lambda x, y: F.l1_loss(x, y.expand(3, 4), reduction=reduction),
               forward_expected=lambda x, y: reference.l1_loss(x, y, reduction)),
        OpCase(f"mse_loss_{reduction}",
               lambda x, y: mse_loss(x, y, reduction=reduction), shapes((3, 4), (3, 4)),
               torch_fn=lambda x, y: F.mse_loss(x, y, reduction=reduction),
               forward_expected=lambda x, y: reference.mse_loss(x, y, reduction)),
    ]


def torch_safe_norm(x, dims):
    return ((x * x).sum(dims) + 1e-12).sqrt()


# critic D(x) = tanh(x W1 + b1) w2 on 3 features; real/fake/alpha are fixed by seeds
GP_REAL = np.random.default_rng(10).uniform(-1, 1, (4, 3))
GP_FAKE = np.random.default_rng(11).uniform(-1, 1, (4, 3))
GP_SEED = 5


def mg_gp(w1, b1, w2):
    return gradient_penalty(lambda x: (x @ w1 + b1).tanh() @ w2, const(w1, GP_REAL), const(w1, GP_FAKE),
                            generator=mg.Generator(GP_SEED))


def np_gp(w1, b1, w2):
    """The penalty from the closed-form input gradient of D(x) = tanh(x W1 + b1) w2:
    dD/dx = W1 (w2 * (1 - tanh^2)), rowwise; alpha drawn from minigrad's generator."""
    alpha = mg.rand(len(GP_REAL), 1, generator=mg.Generator(GP_SEED), dtype="float64").numpy()
    x_hat = alpha * GP_REAL + (1.0 - alpha) * GP_FAKE
    g = (w2 * (1.0 - np.tanh(x_hat @ w1 + b1) ** 2)) @ w1.T
    return ((reference.safe_norm(g, 1) - 1.0) ** 2).mean()


def torch_gp(critic, real, fake, seed=GP_SEED, center=1.0):
    """The textbook WGAN-GP penalty in PyTorch, with alpha drawn from minigrad's generator."""
    alpha = mg.rand(real.shape[0], *([1] * (real.ndim - 1)), generator=mg.Generator(seed),
                    dtype=np_dtype(real)).numpy()
    alpha = torch.from_numpy(alpha)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norms = g.flatten(1).norm(dim=1)
    return ((norms - center) ** 2).mean(), norms


LOSS_CASES = [c for r in REDUCTION_NAMES for c in loss_cases(r)] + [
    OpCase("safe_norm", safe_norm, shapes((3, 2, 2)), torch_fn=lambda x: torch_safe_norm(x, (1, 2)),
           forward_expected=lambda x: reference.safe_norm(x, (1, 2))),
    OpCase("safe_norm_dim1", lambda x: safe_norm(x, dim=1), shapes((3, 4)),
           torch_fn=lambda x: torch_safe_norm(x, 1), forward_expected=lambda x: reference.safe_norm(x, 1)),
    OpCase("gradient_penalty_tanh_mlp", mg_gp, shapes((3, 4), (4,), (4,)),
           torch_fn=lambda w1, b1, w2: torch_gp(lambda x: (x @ w1 + b1).tanh() @ w2,
                                                const(w1, GP_REAL), const(w1, GP_FAKE))[0],
           forward_expected=np_gp),
]

CASES = NORM_CASES + ACTIVATION_CASES + LOSS_CASES


@pytest.mark.parametrize("case", case_params(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_forward(case, dtype):
    check_forward(case, dtype)


@pytest.mark.parametrize("case", case_params(CASES))
@pytest.mark.parametrize("order", [1, 2, 3])
def test_gradients(case, order):
    check_gradients(case, order)


@pytest.mark.parametrize("case", case_params(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_matches_torch(case, dtype):
    check_against_torch(case, dtype)


# ----- batch_norm: running statistics and the DeZero bug ---------------------------------------
@needs_torch
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (3, 3, 2, 4)], ids=str)
@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_running_stats_follow_torch_over_training_steps(shape, momentum):
    rng = np.random.default_rng(0)
    ours = [mg.tensor(RUNNING_MEAN.copy()), mg.tensor(RUNNING_VAR.copy())]
    theirs = [torch.tensor(RUNNING_MEAN.copy()), torch.tensor(RUNNING_VAR.copy())]
    for _ in range(3):
        x = rng.normal(2.0, 3.0, shape)
        y = batch_norm(mg.tensor(x), *ours, training=True, momentum=momentum)
        ty = F.batch_norm(torch.tensor(x), *theirs, training=True, momentum=momentum)
        assert relative_error(y.numpy(), ty.numpy()) <= 1e-10
        for o, t in zip(ours, theirs, strict=True):
            assert relative_error(o.numpy(), t.numpy()) <= 1e-10
    x = rng.normal(2.0, 3.0, shape)
    y = batch_norm(mg.tensor(x), *ours, training=False)
    assert relative_error(y.numpy(), F.batch_norm(torch.tensor(x), *theirs, training=False).numpy()) <= 1e-10


def test_running_stats_are_updated_in_place_and_keep_their_dtype():
    rm, rv = mg.zeros(3), mg.ones(3)
    arrays = rm.array, rv.array
    x = mg.randn(8, 3, generator=mg.Generator(0)) * 2.0 + 1.0
    out = batch_norm(x, rm, rv, training=True)
    assert rm.array is arrays[0] and rv.array is arrays[1]
    assert rm.dtype == rv.dtype == out.dtype == np.float32
    np.testing.assert_allclose(rm.numpy(), 0.1 * x.numpy().mean(0), rtol=1e-5)
    np.testing.assert_allclose(rv.numpy(), 0.9 + 0.1 * x.numpy().var(0, ddof=1), rtol=1e-5)


def test_batch_norm_argument_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm(mg.ones(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean"):
        batch_norm(mg.ones(2, 3), None, None, training=False)
    with pytest.raises(ValueError, match="weight"):
        batch_norm(mg.ones(2, 3), None, None, weight=mg.ones(4), training=True)
    with pytest.raises(ValueError, match="normalized_shape"):
        layer_norm(mg.ones(2, 3), (2, 3, 1))


class FrozenInvStdBatchNorm(Function):
    """DeZero's batchnorm (no affine): the closed-form first-order VJP, correct, but with the
    cached inverse std used as a constant in a backward meant to be differentiated again."""

    def forward(self, x):
        self.save_inputs(0)
        self.inv_std = 1.0 / np.sqrt(x.var(0, keepdims=True) + 1e-5)
        return (x - x.mean(0, keepdims=True)) * self.inv_std

    def backward(self, gy):
        x = self.saved_input(0)
        inv_std = mg.from_numpy(self.inv_std)
        x_hat = (x - x.mean(0, keepdim=True)) * inv_std
        return inv_std * (gy - gy.mean(0, keepdim=True) - x_hat * (gy * x_hat).mean(0, keepdim=True))


def test_the_harness_catches_a_frozen_statistic_at_order_two():
    x = [mg.tensor(np.random.default_rng(0).uniform(-2, 2, (4, 2)), requires_grad=True)]
    assert gradcheck_order(FrozenInvStdBatchNorm.apply, x, order=1)
    with pytest.raises(GradcheckError):
        gradcheck_order(FrozenInvStdBatchNorm.apply, x, order=2)


@pytest.mark.parametrize("norm", [
    lambda x, w, b: batch_norm(x, None, None, w, b, training=True),
    lambda x, w, b: layer_norm(x, 3, w, b),
], ids=["batch_norm_training", "layer_norm"])
def test_third_order_is_exact_in_training_mode(norm):
    """The full (not projected) third-order check of both norms, affine included."""
    rng = np.random.default_rng(3)
    inputs = [mg.tensor(rng.uniform(-2, 2, s), requires_grad=True) for s in [(3, 3), (3,), (3,)]]
    assert gradcheck_order(norm, inputs, order=3, fast_mode=False)


# ----- activations: non-smooth points, stability, dropout -----------------------------------
def derivatives(f, x, orders, lib):
    """[f'(x), f''(x), ...] for an elementwise f: the k-th is d/dx of the sum of the (k-1)-th."""
    out, y = [], f(x).sum()
    for k in range(orders):
        last = k == orders - 1
        if lib is mg:
            (g,) = mg.grad(y, x, create_graph=not last, allow_unused=True)
        else:
            (g,) = torch.autograd.grad(y, x, create_graph=not last, allow_unused=True)
        g = g if g is not None else (mg.zeros_like(x) if lib is mg else torch.zeros_like(x))
        out.append(g.detach().numpy())
        if not last and not g.requires_grad:
            out += [np.zeros(x.shape)] * (orders - k - 1)
            break
        y = g.sum()
    return out


@needs_torch
@pytest.mark.parametrize("name, ours, theirs, points", [
    ("leaky_relu", lambda x: leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2), [-1.0, 0.0, 1.0]),
    ("elu", lambda x: elu(x, 1.5), lambda x: F.elu(x, 1.5), [-1.0, 0.0, 1.0, 800.0]),
    ("softplus_at_threshold", lambda x: softplus(x, 2.0, 1.0), lambda x: F.softplus(x, 2.0, 1.0),
     [-1.0, 0.5, 0.75, -800.0]),
    ("relu_like_softplus", lambda x: softplus(x, 1.0, 0.0), lambda x: F.softplus(x, 1.0, 0.0),
     [-1.0, 0.0, 1.0]),
])
def test_non_smooth_points_match_torch_to_third_order(name, ours, theirs, points):
    x = np.array(points)
    mine = derivatives(ours, mg.tensor(x, requires_grad=True), 3, mg)
    ref = derivatives(theirs, torch.tensor(x, requires_grad=True), 3, torch)
    for k, (a, b) in enumerate(zip(mine, ref, strict=True), start=1):
        assert np.all(np.isfinite(a)), f"{name}: order {k} not finite: {a}"
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300, err_msg=f"{name}, order {k}")


@needs_torch
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_is_stable_for_huge_logits(fn):
    x = np.array([[1000.0, -1000.0, 999.0], [-1000.0, -1001.0, -1000.5]])
    ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = {"softmax": softmax, "log_softmax": log_softmax}[fn](ours, 1)
    ty = getattr(F, fn)(theirs, 1)
    assert np.all(np.isfinite(y.detach().numpy()))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    cot = np.random.default_rng(0).standard_normal(x.shape)
    (g,) = mg.grad(y, ours, mg.tensor(cot))
    (tg,) = torch.autograd.grad(ty, theirs, torch.tensor(cot))
    np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-12, atol=1e-300)


def test_dropout_p_out_of_range_raises_naming_p():
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"p={p}"):
            dropout(mg.ones(3), p)


def test_dropout_identity_cases_and_p_one():
    x = mg.randn(4, 5, generator=mg.Generator(0), requires_grad=True)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    y = dropout(x, 1.0)
    assert not np.any(y.detach().numpy())
    (g,) = mg.grad(y.sum(), x)
    assert not np.any(g.numpy())


def test_dropout_keeps_1_minus_p_and_scales_by_its_inverse():
    p = 0.3
    y = dropout(mg.ones(200, 100), p, generator=mg.Generator(1))
    values = y.numpy()
    assert y.dtype == np.float32
    assert set(np.unique(values)) <= {0.0, np.float32(1 / (1 - p))}
    assert abs((values != 0).mean() - (1 - p)) < 0.01
    assert abs(values.mean() - 1.0) < 0.02


def test_dropout_masks_follow_the_generator():
    x = mg.ones(10, 10)
    a = dropout(x, generator=mg.Generator(3)).numpy()
    assert np.array_equal(a, dropout(x, generator=mg.Generator(3)).numpy())
    assert not np.array_equal(a, dropout(x, generator=mg.Generator(4)).numpy())
    mg.manual_seed(9)
    b = dropout(x).numpy()
    mg.manual_seed(9)
    assert np.array_equal(b, dropout(x).numpy())


# ----- losses ------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", [
    lambda r: binary_cross_entropy_with_logits(mg.zeros(2), mg.zeros(2), reduction=r),
    lambda r: cross_entropy(mg.zeros(2, 3), mg.tensor([0, 1]), reduction=r),
    lambda r: mse_loss(mg.zeros(2), mg.zeros(2), reduction=r),
    lambda r: binary_cross_entropy(mg.zeros(2), mg.zeros(2), reduction=r),
    lambda r: l1_loss(mg.zeros(2), mg.zeros(2), reduction=r),
], ids=["bce_with_logits", "cross_entropy", "mse_loss", "bce", "l1_loss"])
def test_unknown_reduction_raises_listing_the_choices(loss):
    with pytest.raises(ValueError, match="'mean', 'sum', 'none'"):
        loss("average")


def test_binary_cross_entropy_clamps_its_logs_as_torch_does():
    p, t = mg.tensor([0.0, 1.0, 1.0]), mg.tensor([1.0, 0.0, 1.0])
    assert binary_cross_entropy(p, t, reduction="none").tolist() == [100.0, 100.0, 0.0]
    if torch is not None:
        expected = torch.nn.functional.binary_cross_entropy(torch.tensor(p.numpy()), torch.tensor(t.numpy()),
                                                            reduction="none")
        assert expected.tolist() == [100.0, 100.0, 0.0]


def test_binary_cross_entropy_gradient_is_finite_at_0_and_1_as_torch_s():
    p = mg.tensor([0.0, 1.0, 1.0, 0.5], requires_grad=True)
    t = mg.tensor([1.0, 0.0, 1.0, 1.0], requires_grad=True)
    gp, gt = mg.grad(binary_cross_entropy(p, t, reduction="sum"), [p, t])
    assert np.all(np.isfinite(gp.numpy()))
    # d/dt of the clamped loss; torch's target gradient skips the clamp and is inf there
    assert gt.tolist() == [100.0, -100.0, -100.0, 0.0]
    if torch is not None:
        tp = torch.tensor(p.detach().numpy(), requires_grad=True)
        tt = torch.tensor(t.detach().numpy(), requires_grad=True)
        expected = torch.autograd.grad(torch.nn.functional.binary_cross_entropy(tp, tt, reduction="sum"), [tp, tt])
        np.testing.assert_allclose(gp.numpy(), expected[0].numpy(), rtol=1e-6)


def test_binary_cross_entropy_rejects_what_is_not_a_probability():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        binary_cross_entropy(mg.tensor([0.5, 1.5]), mg.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="target shape"):
        binary_cross_entropy(mg.tensor([0.5, 0.5]), mg.tensor([1.0]))


def test_cross_entropy_rejects_bad_targets():
    with pytest.raises(IndexError, match="out of bounds"):
        cross_entropy(mg.zeros(2, 3), mg.tensor([0, 3]))
    with pytest.raises(ValueError, match="integer class indices"):
        cross_entropy(mg.zeros(2, 3), mg.tensor([0.0, 1.0]))


@needs_torch
def test_bce_with_logits_is_exact_at_logits_of_1000():
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0, 1000.0, 0.0])
    t = np.array([0.0, 0.0, 1.0, 1.0, 0.25, 0.5])
    ours = mg.tensor(x, requires_grad=True)

    def bce(logits):
        return binary_cross_entropy_with_logits(logits, mg.tensor(t), reduction="none")

    value = bce(ours)
    g, h = derivatives(bce, ours, 2, mg)
    expected_value = np.array([1000.0, 0.0, 0.0, 1000.0, 750.0, np.log(2.0)])
    expected_grad = np.array([1.0, 0.0, 0.0, -1.0, 0.75, 0.0])  # sigmoid(x) - t
    expected_second = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.25])  # sigmoid'(x)
    np.testing.assert_allclose(value.detach().numpy(), expected_value, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(g, expected_grad, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(h, expected_second, rtol=1e-15, atol=1e-15)
    theirs = torch.tensor(x, requires_grad=True)
    ref = derivatives(lambda v: F.binary_cross_entropy_with_logits(v, torch.tensor(t), reduction="none"),
                      theirs, 2, torch)
    np.testing.assert_allclose(g, ref[0], atol=1e-15)
    np.testing.assert_allclose(h, ref[1], atol=1e-15)


def test_safe_norm_has_a_finite_gradient_at_zero():
    x = mg.zeros(2, 3, dtype="float64", requires_grad=True)
    norms = safe_norm(x)
    np.testing.assert_allclose(norms.detach().numpy(), [1e-6, 1e-6])
    (g,) = mg.grad(norms.sum(), x, create_graph=True)
    (h,) = mg.grad(g.sum(), x)
    assert not np.any(g.detach().numpy()) and np.all(np.isfinite(h.numpy()))


# ----- the WGAN-GP gradient penalty ------------------------------------------------------------
def mlp_weights(rng, features, hidden, scale=1.0):
    return [rng.normal(0, scale, (features, hidden)), rng.normal(0, scale, hidden),
            rng.normal(0, scale, (hidden, 1)), rng.normal(0, scale, 1)]


def mlp(weights, activation):
    w1, b1, w2, b2 = weights
    return lambda x: activation(x.flatten(1) @ w1 + b1) @ w2 + b2


def test_penalty_gradient_is_finite_and_zero_when_the_critic_ignores_x():
    rng = np.random.default_rng(0)
    weights = [mg.tensor(np.zeros_like(w), requires_grad=True) for w in mlp_weights(rng, 6, 5)]
    real, fake = mg.randn(4, 2, 3, dtype="float64"), mg.randn(4, 2, 3, dtype="float64")
    penalty, norms = gradient_penalty(mlp(weights, lambda h: leaky_relu(h, 0.2)), real, fake,
                                      generator=mg.Generator(0), return_norms=True)
    np.testing.assert_allclose(norms.numpy(), np.full(4, 1e-6))
    assert penalty.item() == pytest.approx((1e-6 - 1.0) ** 2, rel=1e-15)
    grads = mg.grad(penalty, weights, allow_unused=True)
    for g in grads:
        assert g is None or (np.all(np.isfinite(g.numpy())) and not np.any(g.numpy()))
    constant = gradient_penalty(lambda x: weights[3] * 1.0 + x.sum(1)[:, :1] * 0.0, real, fake)
    assert np.isfinite(constant.item())


def test_penalty_does_not_reach_real_or_fake():
    real = mg.randn(3, 4, dtype="float64", requires_grad=True)
    fake = real * 2.0
    w = mg.randn(4, 1, dtype="float64", requires_grad=True)
    penalty = gradient_penalty(lambda x: (x @ w).tanh(), real, fake)
    g_real, g_w = mg.grad(penalty, [real, w], allow_unused=True)
    assert g_real is None and g_w is not None


@needs_torch
@pytest.mark.parametrize("act", ["leaky_relu", "tanh", "elu"])
def test_penalty_and_its_weight_gradient_match_torch(act):
    """Same critic, same weights, same alpha: penalty, norms and d penalty / d weights."""
    ours_act = {"leaky_relu": lambda h: leaky_relu(h, 0.2), "tanh": lambda h: h.tanh(), "elu": elu}[act]
    torch_act = {"leaky_relu": lambda h: F.leaky_relu(h, 0.2), "tanh": torch.tanh, "elu": F.elu}[act]
    rng = np.random.default_rng(1)
    arrays = mlp_weights(rng, 6, 8, scale=0.7)
    real, fake = rng.normal(size=(5, 2, 3)), rng.normal(size=(5, 2, 3))
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    penalty, norms = gradient_penalty(mlp(ours, ours_act), mg.tensor(real), mg.tensor(fake),
                                      generator=mg.Generator(42), return_norms=True)
    t_penalty, t_norms = torch_gp(mlp(theirs, torch_act), torch.tensor(real), torch.tensor(fake), seed=42)
    assert relative_error(penalty.detach().numpy(), t_penalty.detach().numpy()) <= 1e-10
    assert relative_error(norms.numpy(), t_norms.detach().numpy()) <= 1e-10
    # the output bias (and, behind a piecewise-linear activation, the hidden bias) does not
    # change the input gradient, so the penalty does not depend on it: None or zeros
    grads = mg.grad(penalty, ours, allow_unused=True)
    t_grads = torch.autograd.grad(t_penalty, theirs, allow_unused=True)
    assert grads[0] is not None and grads[2] is not None
    for k, (a, g, tg) in enumerate(zip(arrays, grads, t_grads, strict=True)):
        g = np.zeros_like(a) if g is None else g.numpy()
        tg = np.zeros_like(a) if tg is None else tg.numpy()
        assert relative_error(g, tg) <= 1e-10, f"weight {k}"
