"""Matrix product with NumPy's matmul semantics (batch broadcasting, 1-D operands)."""
from __future__ import annotations

from ..autograd import Function
from ..tensor import Tensor
from ._export import export
from .shape import sum_to, sum_to_array, transpose, unsqueeze, squeeze


class MatMul(Function):
    """y = a @ b for a, b with ndim >= 2; da = gy @ b^T, db = a^T @ gy, each summed
    over the batch dims that broadcasting added."""

    def forward(self, a, b):
        ga, gb = self.needs_input_grad
        self.save_inputs(1 if ga else None, 0 if gb else None)
        self.shapes = (a.shape, b.shape)
        return self.xp.matmul(a, b)

    def backward(self, gy):
        ga, gb = self.needs_input_grad
        return (
            sum_to(matmul(gy, transpose(self.saved_input(1), -1, -2)), self.shapes[0]) if ga else None,
            sum_to(matmul(transpose(self.saved_input(0), -1, -2), gy), self.shapes[1]) if gb else None,
        )

    def backward_arrays(self, gy):
        ga, gb = self.needs_input_grad
        matmul_ = self.xp.matmul
        return (
            sum_to_array(matmul_(gy, self.saved_input(1).array.swapaxes(-1, -2)), self.shapes[0])
            if ga else None,
            sum_to_array(matmul_(self.saved_input(0).array.swapaxes(-1, -2), gy), self.shapes[1])
            if gb else None,
        )


@export(top=True)
def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b``; 1-D operands are promoted to matrices and the added dim removed."""
    a_vec, b_vec = a.ndim == 1, b.ndim == 1
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
    if a_vec:
        a = unsqueeze(a, 0)
    if b_vec:
        b = unsqueeze(b, -1)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not align ({a.shape[-1]} != {b.shape[-2]})"
        )
    out = MatMul.apply(a, b)
    if a_vec:
        out = squeeze(out, -2)
    if b_vec:
        out = squeeze(out, -1)
    return out
