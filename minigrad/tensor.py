"""``Tensor``: a backend array plus what autograd needs (requires_grad, grad, grad_fn).

Operators and methods follow PyTorch's names and semantics; each one is a thin
call into an op (``minigrad.ops``), where its forward and backward live.
"""
from __future__ import annotations

import numbers
import weakref

import numpy

from .autograd import AccumulateGrad, Function, run_backward, _as_grad_outputs
from ._device import as_device, device, is_device_spec
from .backends import NUMPY, Backend, backend_for_device, backend_of

DEFAULT_DTYPE = numpy.float32
_DTYPES = {
    "float32": numpy.float32, "float": numpy.float32, "float64": numpy.float64,
    "double": numpy.float64, "float16": numpy.float16, "int64": numpy.int64,
    "long": numpy.int64, "int32": numpy.int32, "int": numpy.int32, "uint8": numpy.uint8,
    "bool": numpy.bool_,
}
float32, float64, float16 = numpy.dtype("float32"), numpy.dtype("float64"), numpy.dtype("float16")
int64, int32, uint8, bool_ = (numpy.dtype(n) for n in ("int64", "int32", "uint8", "bool"))


def as_dtype(dtype) -> numpy.dtype | None:
    if dtype is None:
        return None
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise TypeError(f"unknown dtype {dtype!r}; expected one of {sorted(_DTYPES)}")
        return numpy.dtype(_DTYPES[dtype])
    return numpy.dtype(dtype)


class Tensor:
    """A multi-dimensional array that can record operations for differentiation.

    ``array`` is the backend array (numpy.ndarray on CPU, cupy.ndarray on GPU), Chainer's
    name; ``data`` is, as in PyTorch, a tensor sharing that array that does not require grad.
    """

    __array_priority__ = 1000  # numpy scalars on the left defer to our operators
    # a weak reference to the AccumulateGrad node of a leaf that requires grad (see _edge)
    _accumulator_ref = None
    # [version], bumped by each change in place; shared by the tensors that share the array
    # through detach() and by a node that saved this tensor's array. None reads as version 0.
    _version_counter: list | None = None

    def __init__(self, *data, requires_grad: bool = False):
        """torch.Tensor's constructor: ``Tensor(array or list)`` holds it as float32 (sharing a
        float32 array, as torch does), ``Tensor(tensor)`` shares that tensor's array whatever
        its dtype, ``Tensor(2, 3)`` is a zero (2, 3) tensor and ``Tensor()`` an empty one.
        ``minigrad.tensor``, ``as_tensor`` and ``from_numpy`` keep other dtypes."""
        if len(data) == 1 and isinstance(data[0], Tensor):
            array = data[0].array
        else:
            array = legacy_constructor_array(data, DEFAULT_DTYPE)
        self._init_leaf(array, requires_grad)

    def _init_leaf(self, array, requires_grad: bool) -> None:
        self.array = array
        self.grad: Tensor | None = None
        self.grad_fn: Function | None = None
        self._output_nr = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _leaf(cls, array, requires_grad: bool = False) -> Tensor:
        """A leaf tensor around the backend array ``array``, of its dtype (no copy)."""
        t = cls.__new__(cls)
        t._init_leaf(array, requires_grad)
        return t

    @classmethod
    def _make(cls, data, requires_grad=False, grad_fn=None, output_nr=0):
        """A tensor around ``data`` without checks: output ``output_nr`` of ``grad_fn``, or a leaf."""
        t = cls.__new__(cls)
        t.array, t.grad, t.grad_fn, t._output_nr, t.requires_grad = (
            data, None, grad_fn, output_nr, requires_grad)
        return t

    # ----- properties ------------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """This tensor's array as a tensor cut from the graph (PyTorch's ``.data``): changes
        through it, in place, change this tensor, and autograd does not see them."""
        return Tensor._make(self.array)

    @data.setter
    def data(self, other: Tensor) -> None:
        if not isinstance(other, Tensor):
            raise TypeError(f"tensor.data = ...: expected a Tensor, got {type(other).__name__}")
        self.array = other.array

    @property
    def _version(self) -> int:
        """How many times the array was changed in place (torch's ``_version``)."""
        counter = self._version_counter
        return 0 if counter is None else counter[0]

    def _shared_version_counter(self) -> list:
        if self._version_counter is None:
            self._version_counter = [0]
        return self._version_counter

    def _bump_version(self) -> None:
        """Record a change in place of the array (in-place methods, optimizers, nn.init)."""
        self._shared_version_counter()[0] += 1

    @property
    def _backend(self) -> Backend:
        return backend_of(self.array)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> numpy.dtype:
        return self.array.dtype

    @property
    def device(self) -> device:
        """Where the array lives: ``device('cpu')`` or ``device('cuda', index)``."""
        return self._backend.device_of(self.array)

    @property
    def is_cuda(self) -> bool:
        return self._backend is not NUMPY

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return int(self.array.size)

    def dim(self) -> int:
        return self.ndim

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def _edge(self):
        """(node, output_index) that receives this tensor's gradient: its ``grad_fn``, or
        the ``AccumulateGrad`` node of a leaf. Only for tensors that require grad."""
        if self.grad_fn is not None:
            return (self.grad_fn, self._output_nr)
        return (self._grad_accumulator(), 0)

    def _grad_accumulator(self) -> AccumulateGrad:
        """The leaf's AccumulateGrad node: the same one while any graph holds it. The tensor
        refers to it weakly (the node refers to the tensor), so a graph makes no cycle."""
        ref = self._accumulator_ref
        node = ref() if ref is not None else None
        if node is None or node.variable is not self:  # dead, or copied with the tensor
            node = AccumulateGrad(self)
            self._accumulator_ref = weakref.ref(node)
        return node

    # ----- conversion --------------------------------------------------------------
    def numpy(self) -> numpy.ndarray:
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()"
            )
        return self._backend.to_numpy(self.array)

    def tolist(self):
        return self._backend.to_numpy(self.array).tolist()

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item(): the tensor has {self.numel()} elements, not 1")
        return self.array.reshape(()).item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def detach(self) -> Tensor:
        """The same array, cut from the graph; a change in place to either is seen by the
        version check of the other's graph, as in PyTorch (``.data`` is not seen)."""
        alias = Tensor._make(self.array)
        alias._version_counter = self._shared_version_counter()
        return alias

    def detach_(self) -> Tensor:
        self.grad_fn, self.requires_grad = None, False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.array.dtype.kind != "f":
            raise RuntimeError(
                f"only floating point tensors can require gradients, not {self.array.dtype}"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) is only for leaf tensors; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def clone(self) -> Tensor:
        return _shape.Clone.apply(self)

    def astype(self, dtype) -> Tensor:
        dtype = as_dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype.kind == "f" and self.dtype.kind == "f":
            return _ew.Cast.apply(self, to=dtype)
        return Tensor._make(self.array.astype(dtype))

    to_dtype = astype

    def float(self) -> Tensor:
        return self.astype(float32)

    def double(self) -> Tensor:
        return self.astype(float64)

    def long(self) -> Tensor:
        return self.astype(int64)

    def to(self, *args, device=None, dtype=None) -> Tensor:
        """``.to(device)``, ``.to(dtype)``, ``.to(device, dtype)`` or the keywords: the data moved
        to ``device`` (a copy; not differentiable, as the move is a leaf) and/or cast to
        ``dtype`` (differentiable between floating dtypes). ``self`` when nothing changes."""
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif is_device_spec(arg) or isinstance(arg, int) and not isinstance(arg, bool):
                device = arg
            else:
                dtype = arg
        out = self if dtype is None else self.astype(dtype)
        if device is None:
            return out
        target = as_device(device)
        backend = backend_for_device(target)
        moved = backend.place(out.array, target)
        return out if moved is out.array else Tensor._make(moved)

    def type(self, dtype=None):
        """torch's ``Tensor.type``: with no argument the type's name ('minigrad.FloatTensor');
        given a type (``minigrad.FloatTensor``, or its name as a string, 'torch.' prefix
        accepted) or a dtype, this tensor converted to it (itself if it already is)."""
        return _tensortypes.convert(self, dtype)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None) -> Tensor:
        """On GPU ``device`` (an index, 'cuda:1', a device; None: the current GPU)."""
        return self.to("cuda" if device is None else _cuda_device(device))

    # ----- autograd ------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False):
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad."""
        if not self.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        grads = _as_grad_outputs([self], None if gradient is None else [gradient], "backward")
        if retain_graph is None:
            retain_graph = create_graph
        run_backward([self], grads, None, retain_graph, create_graph)

    # ----- printing ------------------------------------------------------------------
    def __repr__(self):
        body = numpy.array2string(self._backend.to_numpy(self.array), separator=", ", prefix="tensor(")
        extra = ""
        if self.dtype != float32 and self.dtype.kind == "f":
            extra += f", dtype={self.dtype}"
        if self.is_cuda:
            extra += f", device='{self.device}'"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{type(self.grad_fn).__name__}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ----- arithmetic ------------------------------------------------------------------
    def __add__(self, other):
        return _ew.Add.apply(self, other)

    def __radd__(self, other):
        return _ew.Add.apply(other, self)

    def __sub__(self, other):
        return _ew.Sub.apply(self, other)

    def __rsub__(self, other):
        return _ew.Sub.apply(other, self)

    def __mul__(self, other):
        return _ew.Mul.apply(self, other)

    def __rmul__(self, other):
        return _ew.Mul.apply(other, self)

    def __truediv__(self, other):
        return _ew.Div.apply(self, other)

    def __rtruediv__(self, other):
        return _ew.Div.apply(other, self)

    def __pow__(self, other):
        return _ew.pow(self, other)

    def __rpow__(self, other):
        return _ew.pow(other, self)

    def __neg__(self):
        return _ew.Neg.apply(self)

    def __pos__(self):
        return self

    def __matmul__(self, other):
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _linalg.matmul(other, self)

    def __abs__(self):
        return _ew.Abs.apply(self)

    # comparisons: not differentiable, return bool tensors
    def _compare(self, other, op):
        other = other.array if isinstance(other, Tensor) else other
        return Tensor._make(getattr(self.array, op)(other))

    def __eq__(self, other):
        return self._compare(other, "__eq__")

    def __ne__(self, other):
        return self._compare(other, "__ne__")

    def __lt__(self, other):
        return self._compare(other, "__lt__")

    def __le__(self, other):
        return self._compare(other, "__le__")

    def __gt__(self, other):
        return self._compare(other, "__gt__")

    def __ge__(self, other):
        return self._compare(other, "__ge__")

    __hash__ = object.__hash__

    def __getitem__(self, index):
        return _shape.getitem(self, index)

    # ----- named ops ----------------------------------------------------------------------
    # exp, sum, reshape, permute, ... are not written here: ``@export(method=...)`` on each
    # op's functional form in minigrad/ops/ makes it the method (``Tensor.exp is
    # minigrad.ops.elementwise.exp``), when this module imports the ops at its end.
    def expand_as(self, other):
        return _shape.expand(self, *other.shape)

    def contiguous(self):
        return self


def legacy_constructor_array(args: tuple, dtype: numpy.dtype):
    """The array of dtype ``dtype`` that torch's legacy constructors (``Tensor(*args)``,
    ``FloatTensor(*args)``) hold: zeros of shape ``args`` if they are ints (none: shape (0,)),
    else the one argument (array, list, Tensor) cast to ``dtype``, sharing an array of it."""
    if all(isinstance(a, (int, numpy.integer)) and not isinstance(a, bool) for a in args):
        return numpy.zeros(_shape_arg(args) if args else (0,), dtype)
    if len(args) != 1:
        raise TypeError(f"Tensor(): expected data (an array, a list or a Tensor) or sizes (ints), "
                        f"got {len(args)} arguments of types {[type(a).__name__ for a in args]}")
    data = args[0]
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, numpy.ndarray) or type(data).__module__.startswith("cupy"):
        return data if data.dtype == dtype else data.astype(dtype)
    return numpy.array(data, dtype=dtype)


def _wrap_inputs(op_name: str, inputs: tuple):
    """Turn op inputs into tensors on one backend with one floating dtype.

    Python and NumPy scalars become constants of the tensors' dtype (PyTorch's
    rule for scalars); mixing backends or floating dtypes raises.
    """
    first = None
    for x in inputs:
        if isinstance(x, Tensor):
            first = x
            break
    if first is None:
        raise TypeError(f"{op_name}: expected at least one Tensor argument")
    array_type, dtype = type(first.array), first.array.dtype
    constants = False
    for x in inputs:
        if not isinstance(x, Tensor):
            constants = True
        elif type(x.array) is not array_type or x.array.dtype is not dtype:
            # a cheap test on the hot path; a difference may still be fine (an array beside
            # a NumPy scalar), so only the full check decides
            _check_same_backend_and_dtype(op_name, first, x)
    backend = backend_of(first.array)
    if not constants:
        return inputs, backend, dtype
    tensors = []
    for x in inputs:
        if isinstance(x, Tensor):
            tensors.append(x)
        elif isinstance(x, (numbers.Number, numpy.generic)):
            tensors.append(Tensor._make(backend.constant(x, dtype)))
        else:
            arr = backend.asarray(x)
            if arr.dtype != dtype:
                raise TypeError(f"{op_name}: array argument of dtype {arr.dtype}, expected {dtype}")
            tensors.append(Tensor._make(arr))
    return tuple(tensors), backend, dtype


def _check_same_backend_and_dtype(op_name: str, first: Tensor, x: Tensor) -> None:
    if x._backend is not first._backend or x.device.index != first.device.index:
        raise RuntimeError(
            f"{op_name}: expected all tensors on one device, but found tensors on {first.device} "
            f"and on {x.device}; move them with .to(device) first"
        )
    if x.dtype != first.dtype:
        raise TypeError(
            f"{op_name}: tensors have different dtypes ({first.dtype} and {x.dtype}); "
            "cast one with .float() or .double() first"
        )


# ----- creation ------------------------------------------------------------------------------
def _infer_dtype(data):
    arr = numpy.asarray(data)
    if arr.dtype.kind == "f" and not isinstance(data, numpy.ndarray):
        return DEFAULT_DTYPE  # Python floats are float32 by default, as in PyTorch
    if arr.dtype.kind in "iu" and not isinstance(data, numpy.ndarray):
        return numpy.int64
    return arr.dtype


def tensor(data, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (list, scalar, array or Tensor), on
    ``device`` (default: where ``data`` is; the CPU for lists and scalars)."""
    if isinstance(data, Tensor):
        data = data.array
    target = as_device(device)
    backend = backend_of(data) if target is None else backend_for_device(target)
    dtype = as_dtype(dtype)
    if backend is NUMPY or backend_of(data) is NUMPY:
        host = data if backend_of(data) is NUMPY else backend_of(data).to_numpy(data)
        arr = numpy.array(host, dtype=dtype if dtype is not None else _infer_dtype(host))
        arr = backend.place(arr, target)
    else:
        with backend.on(target):
            arr = backend.xp.array(data, dtype=dtype)
    return Tensor._leaf(arr, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory when it is already an array of that dtype on
    ``device`` (None: wherever it is)."""
    if isinstance(data, Tensor):
        out = data if dtype is None else data.astype(dtype)
        return out if device is None else out.to(device)
    if hasattr(data, "__array__") or type(data).__module__.startswith("cupy"):
        dtype = as_dtype(dtype)
        if dtype is None or data.dtype == dtype:
            return Tensor._leaf(data) if device is None else Tensor._leaf(data).to(device)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: numpy.ndarray) -> Tensor:
    return Tensor._leaf(array)


def _created(make, device, requires_grad) -> Tensor:
    """A leaf around ``make(xp)``, an array built by the backend of ``device``, on it."""
    target = as_device(device)
    backend = backend_for_device(target)
    with backend.on(target):
        return Tensor._leaf(make(backend.xp), requires_grad)


def _full(shape, value, dtype, requires_grad, device):
    shape = _shape_arg(shape)
    dtype = as_dtype(dtype) or DEFAULT_DTYPE
    return _created(lambda xp: xp.full(shape, value, dtype=dtype), device, requires_grad)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, (int, numpy.integer)) or s < 0:
            raise ValueError(f"sizes must be non-negative integers, got {shape}")
    return tuple(int(s) for s in shape)


def _cuda_device(spec) -> device:
    """``Tensor.cuda``/``Module.cuda``'s argument (an index, 'cuda:1', a device) as a GPU device."""
    target = as_device(spec)
    if target.type != "cuda":
        raise ValueError(f"cuda(device=...) needs a GPU device, got {target}")
    return target


def zeros(*shape, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _full(shape, 0, dtype, requires_grad, device)


def ones(*shape, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _full(shape, 1, dtype, requires_grad, device)


def empty(*shape, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _full(shape, 0, dtype, requires_grad, device)


def full(shape, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _full((shape,), fill_value, dtype, requires_grad, device)


def _like(t: Tensor, value, dtype, requires_grad, device):
    dtype = as_dtype(dtype) or t.dtype
    if device is None:  # on t's backend, without parsing a device (backward seeds its grad here)
        return Tensor._leaf(t._backend.xp.full(t.shape, value, dtype=dtype), requires_grad)
    return _full(t.shape, value, dtype, requires_grad, device)


def zeros_like(t: Tensor, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _like(t, 0, dtype, requires_grad, device)


def ones_like(t: Tensor, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _like(t, 1, dtype, requires_grad, device)


def full_like(t: Tensor, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _like(t, fill_value, dtype, requires_grad, device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None) -> Tensor:
    if end is None:
        start, end = 0, start
    ints = all(isinstance(v, (int, numpy.integer)) for v in (start, end, step))
    dtype = as_dtype(dtype) or (numpy.dtype(numpy.int64) if ints else numpy.dtype(DEFAULT_DTYPE))
    return _created(lambda xp: xp.arange(start, end, step, dtype=dtype), device, requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad=False, device=None) -> Tensor:
    dtype = as_dtype(dtype) or DEFAULT_DTYPE
    return _created(lambda xp: xp.linspace(start, end, steps, dtype=dtype), device, requires_grad)


from .ops import elementwise as _ew, linalg as _linalg, shape as _shape  # noqa: E402
from . import tensortypes as _tensortypes  # noqa: E402
