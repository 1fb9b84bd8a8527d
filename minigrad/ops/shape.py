"""Shape ops. Each backward is another shape op, so pairs close under differentiation:
sum_to <-> broadcast_to, reshape <-> reshape, permute <-> inverse permute,
getitem <-> scatter of the gradient into zeros, cat <-> slicing.
"""
from __future__ import annotations

from typing import Any

from ..autograd import Function
from ..tensor import Tensor
from ._export import export


def _norm_dim(dim: int, ndim: int, op: str) -> int:
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dims")
    return dim % max(ndim, 1)


def sum_to_array(a, shape: tuple[int, ...]):
    """The array ``a`` summed over the axes that broadcasting to ``a.shape`` would have added
    (``a`` itself when it has ``shape``): ``SumTo``'s forward, and ``sum_to`` on arrays."""
    if a.shape == shape:
        return a
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1
    )
    out = a.sum(axis=axes, keepdims=True) if axes else a
    return out.reshape(shape) if lead else out


class SumTo(Function):
    """Sum a broadcast array back to ``shape`` (the adjoint of broadcast_to)."""

    shape: tuple[int, ...]

    def forward(self, a):
        self.in_shape = a.shape
        return sum_to_array(a, self.shape)

    def backward(self, gy):
        return BroadcastTo.apply(gy, shape=self.in_shape)

    def backward_arrays(self, gy):
        return self.xp.broadcast_to(gy, self.in_shape)


def _view_of(base: Tensor, out: Tensor) -> Tensor:
    """``out``, whose array is a view of ``base``'s: it shares ``base``'s version counter, as
    torch's views do, so a change in place to either (an optimizer step on a weight) is
    caught by a graph that saved the other (the transposed weight of ``linear``)."""
    out._version_counter = base._shared_version_counter()
    return out


def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``x`` summed over the axes that broadcasting to ``x.shape`` would have added."""
    shape = tuple(shape)
    return x if x.shape == shape else SumTo.apply(x, shape=shape)


class BroadcastTo(Function):
    """Broadcast to ``shape`` (NumPy rules); the gradient is summed back."""

    shape: tuple[int, ...]

    def forward(self, a):
        self.in_shape = a.shape
        try:
            return self.xp.broadcast_to(a, self.shape)
        except ValueError:
            raise ValueError(f"expand: cannot broadcast shape {a.shape} to {self.shape}") from None

    def backward(self, gy):
        return sum_to(gy, self.in_shape)

    def backward_arrays(self, gy):
        return sum_to_array(gy, self.in_shape)


@export(top=True)
def broadcast_to(x: Tensor, shape) -> Tensor:
    """x broadcast to ``shape`` by NumPy's rules (``BroadcastTo``; the gradient is summed back)."""
    shape = tuple(shape)
    return x if x.shape == shape else _view_of(x, BroadcastTo.apply(x, shape=shape))


@export(top=True, method=True)
def expand(x: Tensor, *shape) -> Tensor:
    """PyTorch's expand: -1 keeps a size."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: shape {shape} has fewer dims than the tensor's {x.shape}")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    return broadcast_to(x, shape)


class Reshape(Function):
    """y = a reshaped to ``shape``; the gradient is reshaped back."""

    shape: tuple[int, ...]

    def forward(self, a):
        self.in_shape = a.shape
        try:
            return a.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: shape {self.shape} is invalid for a tensor of shape "
                             f"{a.shape} ({a.size} elements)") from None

    def backward(self, gy):
        return Reshape.apply(gy, shape=self.in_shape)

    def backward_arrays(self, gy):
        return gy.reshape(self.in_shape)


@export(top=True, method=("reshape", "view"))
def reshape(x: Tensor, *shape) -> Tensor:
    """x with a new shape of as many elements; -1 infers one size (``Reshape``)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if tuple(shape) == x.shape:
        return x
    out = Reshape.apply(x, shape=tuple(shape))
    return out if out.array.base is None else _view_of(x, out)  # NumPy copies when it must


class Permute(Function):
    """y = a with its dims reordered to ``dims``; the gradient takes the inverse order."""

    dims: tuple[int, ...]

    def forward(self, a):
        return a.transpose(self.dims)

    def backward(self, gy):
        return Permute.apply(gy, dims=_inverse_permutation(self.dims))

    def backward_arrays(self, gy):
        return gy.transpose(_inverse_permutation(self.dims))


def _inverse_permutation(dims: tuple[int, ...]) -> tuple[int, ...]:
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return tuple(inverse)


@export(top=True, method=True)
def permute(x: Tensor, *dims) -> Tensor:
    """x with its dims reordered: output dim i is input dim ``dims[i]`` (``Permute``)."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    dims = tuple(_norm_dim(d, x.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of {x.ndim} dims")
    return _view_of(x, Permute.apply(x, dims=dims))


@export(top=True, method=True)
def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """x with dims ``dim0`` and ``dim1`` swapped (``Permute``)."""
    dims = list(range(x.ndim))
    d0, d1 = _norm_dim(dim0, x.ndim, "transpose"), _norm_dim(dim1, x.ndim, "transpose")
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return _view_of(x, Permute.apply(x, dims=tuple(dims)))


@export(top=True, method=True)
def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """x with a size-1 dim inserted at ``dim`` (``Reshape``)."""
    dim = _norm_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


@export(top=True, method=True)
def squeeze(x: Tensor, dim=None) -> Tensor:
    """x without its size-1 dims (only those in ``dim`` when given) (``Reshape``)."""
    if dim is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    dims = {_norm_dim(d, x.ndim, "squeeze") for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1)))


@export(top=True, method=True)
def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """x with dims ``start_dim``..``end_dim`` merged into one (``Reshape``)."""
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = _norm_dim(start_dim, x.ndim, "flatten"), _norm_dim(end_dim, x.ndim, "flatten")
    n = 1
    for d in x.shape[s:e + 1]:
        n *= d
    return reshape(x, x.shape[:s] + (n,) + x.shape[e + 1:])


def _raw_index(index):
    """Tensors inside an index become their arrays (integer/bool indexing)."""
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    return index.array if isinstance(index, Tensor) else index


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


class GetItem(Function):
    """y = a[index]; the gradient is scattered back into zeros of a's shape."""

    index: Any  # a NumPy-style index: ints, slices, None, Ellipsis, integer or bool arrays

    def forward(self, a):
        self.in_shape = a.shape
        return a[self.index]

    def backward(self, gy):
        return IndexScatter.apply(gy, index=self.index, shape=self.in_shape)


class IndexScatter(Function):
    """y = zeros(shape); y[index] += a. Basic indices never repeat an element, so a
    plain assignment suffices; integer-array indices may, and use add.at."""

    index: Any  # as GetItem's
    shape: tuple[int, ...]

    def forward(self, a):
        out = self.xp.zeros(self.shape, dtype=a.dtype)
        if _is_basic(self.index):
            out[self.index] = a
        else:
            self.xp.add.at(out, self.index, a)
        return out

    def backward(self, gy):
        return GetItem.apply(gy, index=self.index)


def getitem(x: Tensor, index) -> Tensor:
    index = _raw_index(index)
    try:
        out = GetItem.apply(x, index=index)
    except IndexError as exc:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape {x.shape}: {exc}") from None
    return _view_of(x, out) if _is_basic(index) else out


class Cat(Function):
    """Concatenate along ``dim``; each input's gradient is its slice of gy."""

    dim: int

    def forward(self, *arrays):
        self.sizes = [a.shape[self.dim] for a in arrays]
        return self.xp.concatenate(arrays, axis=self.dim)

    def backward(self, gy):
        grads, start = [], 0
        for size, want in zip(self.sizes, self.needs_input_grad):
            index = (slice(None),) * self.dim + (slice(start, start + size),)
            grads.append(GetItem.apply(gy, index=index) if want else None)
            start += size
        return tuple(grads)


@export(top=("cat", "concatenate"))
def cat(tensors, dim: int = 0) -> Tensor:
    """The tensors joined along ``dim``; all other sizes must agree (``Cat``)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ref = tensors[0].shape
    dim = _norm_dim(dim, len(ref), "cat")
    for i, t in enumerate(tensors):
        if t.ndim != len(ref) or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref)) if j != dim):
            raise ValueError(f"cat: tensor {i} has shape {t.shape}, incompatible with {ref} along dim {dim}")
    return Cat.apply(*tensors, dim=dim)


@export(top=True)
def stack(tensors, dim: int = 0) -> Tensor:
    """The equally shaped tensors stacked along a new dim ``dim`` (``Cat`` of unsqueezed inputs)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, expected {tensors[0].shape}")
    dim = _norm_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, dim) for t in tensors], dim=dim)


class Clone(Function):
    def forward(self, a):
        return a.copy()

    def backward(self, gy):
        return gy
