"""Losses (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, mse_loss,
l1_loss) and the WGAN-GP
gradient penalty with its helper ``safe_norm``.

All are compositions of differentiable ops, so each has derivatives of every
order; the gradient penalty needs exactly that, because it is itself built from
a gradient.
"""
from __future__ import annotations

from collections.abc import Callable

from ..autograd import Function, grad
from ..random import Generator, rand
from ..tensor import Tensor, zeros_like
from ._export import export
from .activation import log_softmax, softplus
from .elementwise import abs, clamp, log, maximum, sqrt
from .reduce import TakeAlong, _dims, mean, sum
from .shape import reshape

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{op}: reduction must be one of {', '.join(repr(r) for r in REDUCTIONS)}, "
            f"got {reduction!r}"
        )


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    return loss


# torch clamps each log of binary_cross_entropy at -100, so a probability of exactly 0 or 1
# gives a finite loss (100 per element) instead of inf, and the divisor of its gradient at
# 1e-12, so the gradient there is finite too (a saturated sigmoid gives exactly 1.0 in float32)
_BCE_LOG_FLOOR = -100.0
_BCE_EPS = 1e-12


def _floored_log(xp, a):
    """max(log a, -100) for a in [0, 1], without log(0)'s warning: the floor is applied to the
    log of a first moved off 0 to the smallest positive number, whose log is below -100."""
    tiny = xp.finfo(a.dtype).smallest_subnormal
    return xp.maximum(xp.log(xp.maximum(a, tiny)), _BCE_LOG_FLOOR)


def _floored_log_tensor(a: Tensor) -> Tensor:
    tiny = float(a._backend.xp.finfo(a.dtype).smallest_subnormal)
    return clamp(log(maximum(a, tiny)), min=_BCE_LOG_FLOOR)


class BinaryCrossEntropy(Function):
    """l = -[t max(log x, -100) + (1 - t) max(log(1 - x), -100)] elementwise, as torch's.

    dl/dx = (x - t) / max(x (1 - x), 1e-12) (torch's formula, finite at x = 0 and 1);
    dl/dt = max(log(1 - x), -100) - max(log x, -100). Both are written with minigrad ops,
    so they are differentiable again; inside the clamps they are the exact derivatives. At
    x = 0 or 1, dl/dt is that of the clamped loss (+-100), where torch's is inf.
    """

    def forward(self, x, t):
        self.save_inputs(0, 1)
        xp = self.xp
        return -(t * _floored_log(xp, x) + (1 - t) * _floored_log(xp, 1 - x))

    def backward(self, gy):
        x, t = self.saved_input(0), self.saved_input(1)
        gx = gt = None
        if self.needs_input_grad[0]:
            gx = gy * (x - t) / clamp(x * (1.0 - x), min=_BCE_EPS)
        if self.needs_input_grad[1]:
            gt = gy * (_floored_log_tensor(1.0 - x) - _floored_log_tensor(x))
        return gx, gt


@export(functional=True)
def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy on probabilities x in [0, 1] with targets t (PyTorch's semantics).

    ``input``, ``target``: the same shape (*); ``weight``: broadcastable to it. Per element,

        l = -w [t max(log x, -100) + (1 - t) max(log(1 - x), -100)]

    (torch's clamp of the logs); dl/dx = w (x - t) / max(x (1 - x), 1e-12), torch's
    formula (``BinaryCrossEntropy``). On logits, ``binary_cross_entropy_with_logits`` is stable where
    this form loses digits (x near 0 or 1). ``reduction``: 'mean' | 'sum' | 'none' (shape *).
    """
    _check_reduction(reduction, "binary_cross_entropy")
    if input.shape != target.shape:
        raise ValueError(f"binary_cross_entropy: target shape {target.shape} differs from input "
                         f"shape {input.shape}")
    # as torch does; skipped on the GPU, where the check would cost a host sync per call
    # (torch checks there with a device-side assert)
    if not input.is_cuda and bool(((input.array < 0) | (input.array > 1)).any()):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@export(functional=True)
def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy on logits x with targets t in [0, 1] (PyTorch's semantics).

    ``input``, ``target``: the same shape (*); ``weight``: broadcastable to it.
    Per element,

        l = -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] = softplus(x) - t x

    and softplus(x) = max(x, 0) + log1p(exp(-|x|)) never overflows, so logits
    of +-1000 give finite, exact values; dl/dx = sigmoid(x) - t and every higher
    derivative come from softplus's own (stable) derivatives. Writing the
    stable form with ``relu`` and ``abs`` instead would be wrong at x = 0, where
    the kinks of those two pieces cancel but their zero subgradients do not.
    ``reduction``: 'mean' | 'sum' over all elements, or 'none' (shape *).
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    if input.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: target shape {target.shape} differs from input "
            f"shape {input.shape}"
        )
    loss = softplus(input, threshold=float("inf")) - input * target
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@export(functional=True)
def cross_entropy(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy: l_i = -log softmax(x_i)[t_i] = logsumexp(x_i) - x_i[t_i].

    ``input``: (N, C) logits; ``target``: (N,) integer class indices in [0, C).
    Computed from ``log_softmax`` (stable for large logits); d l_i / d x_i =
    softmax(x_i) - onehot(t_i). ``reduction``: 'mean' (over N), 'sum', or 'none' (N,).
    """
    _check_reduction(reduction, "cross_entropy")
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: expected (N, C) logits, got shape {input.shape}")
    xp = input._backend.xp
    indices = xp.asarray(target.array if isinstance(target, Tensor) else target)
    n, classes = input.shape
    if indices.dtype.kind not in "iu" or indices.shape != (n,):
        raise ValueError(
            f"cross_entropy: target must be integer class indices of shape ({n},), got "
            f"{indices.dtype} of shape {indices.shape}"
        )
    input._backend.check_index_range(indices, classes, "cross_entropy: target")
    picked = TakeAlong.apply(log_softmax(input, 1), indices=indices.reshape(n, 1), dim=1)
    return _reduce(-reshape(picked, (n,)), reduction)


@export(functional=True)
def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error: l = (x - y)^2 elementwise (broadcast as PyTorch does).

    ``reduction``: 'mean' | 'sum' over all elements, or 'none' (broadcast shape).
    """
    _check_reduction(reduction, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction)


@export(functional=True)
def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error: l = |x - y| elementwise (broadcast as PyTorch does); its
    derivative sign(x - y) is 0 where x = y, as torch's.

    ``reduction``: 'mean' | 'sum' over all elements, or 'none' (broadcast shape).
    """
    _check_reduction(reduction, "l1_loss")
    return _reduce(abs(input - target), reduction)


@export(functional=True)
def safe_norm(x: Tensor, dim=None, eps: float = 1e-12) -> Tensor:
    """sqrt(sum x^2 + eps) over ``dim`` (default: every axis but the batch axis 0).

    ``x``: (N, *) -> (N,) by default. Unlike the plain norm, its derivative
    x / sqrt(sum x^2 + eps) is finite (zero) at x = 0, and so are all higher
    derivatives. That matters in WGAN-GP: a critic whose input gradient is
    exactly zero for some sample (dead relus, zero weights) would otherwise give
    0/0 = NaN in the penalty's gradient (pytorch#2534, keras-io#910). The
    eps shifts the norm by at most sqrt(eps) = 1e-6.
    """
    dims = tuple(range(1, x.ndim)) if dim is None else _dims(dim, x.ndim, "safe_norm")
    return sqrt(sum(x * x, dims) + eps)


@export(functional=True)
def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    generator: Generator | None = None,
    center: float = 1.0,
    eps: float = 1e-12,
    return_norms: bool = False,
):
    """The WGAN-GP penalty (Gulrajani et al. 2017): mean_i (||grad_x D(x_hat_i)|| - center)^2.

    ``real``, ``fake``: (N, *), the same shape. ``critic``: (N, *) -> scores
    (N,) or (N, 1). Returns the scalar penalty, and with ``return_norms`` also
    the per-sample gradient norms (N,), detached (for logging).

    1. Interpolate: alpha_i ~ U[0, 1) of shape (N, 1, ..., 1) from ``generator``,
       x_hat = alpha real + (1 - alpha) fake, built from detached real/fake
       (the penalty trains the critic only; no gradient reaches the generator)
       and marked as a leaf that requires grad.
    2. First backward, kept as a graph: g = d(sum_i D(x_hat_i))/d x_hat, computed
       with ``create_graph=True``. Samples do not interact inside the critic
       (no batch norm in a WGAN-GP critic), so row i of g is grad_x D(x_hat_i).
       Because the graph was recorded, g is an ordinary differentiable function
       of the critic's weights W: for a critic D(x) = w2 . tanh(W1 x) it is
       g = W1^T (w2 * tanh'(W1 x)), a formula in which W1 and w2 both appear.
    3. Penalty: P = mean_i (safe_norm(g_i) - center)^2.

    Training calls ``P.backward()`` (usually on the critic loss plus lambda P).
    That is the second backward, a double backward: it walks the graph of step 2,
    and reaching W means differentiating each op's backward formula, so every
    op the critic uses needs a differentiable backward (here: all of them).
    dP/dW = sum_i dP/dg_i . dg_i/dW, where dg_i/dW contains the critic's second
    derivatives (mixed in x and W).

    ``safe_norm`` adds eps under the square root, so a zero input gradient
    (for instance a critic with all-zero weights) gives a finite penalty
    gradient, zero from the norm, instead of NaN.
    """
    if real.shape != fake.shape:
        raise ValueError(
            f"gradient_penalty: real has shape {real.shape} but fake has shape {fake.shape}"
        )
    real, fake = real.detach(), fake.detach()
    alpha_shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    alpha = rand(*alpha_shape, generator=generator, dtype=real.dtype, device=real.device)
    x_hat = (alpha * real + (1.0 - alpha) * fake).requires_grad_(True)
    scores = critic(x_hat)
    (g,) = grad(sum(scores), x_hat, create_graph=True, allow_unused=True)
    if g is None:  # the critic ignores its input: its gradient is identically zero
        g = zeros_like(x_hat)
    norms = safe_norm(g, eps=eps)
    deviation = norms - center
    penalty = mean(deviation * deviation)
    return (penalty, norms.detach()) if return_norms else penalty
