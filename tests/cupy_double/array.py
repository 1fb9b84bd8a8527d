"""The double's ``cupy.ndarray``: a NumPy array behind CuPy's rules (see the package docstring)."""
from __future__ import annotations

import operator

import numpy

# calls that only make a view or read metadata: no kernel runs on a GPU for them
VIEWS = frozenset({
    "reshape", "view", "transpose", "swapaxes", "moveaxis", "squeeze", "expand_dims", "ravel",
    "broadcast_to", "as_strided", "diagonal", "real", "imag", "atleast_1d", "atleast_2d",
    "atleast_3d", "result_type", "ndim", "shape", "size", "can_cast", "may_share_memory",
    "shares_memory", "__getitem__basic", "empty", "empty_like",
})
# calls that legitimately change float32 to float64 (asked for by name)
EXPLICIT_CASTS = frozenset({"astype", "asarray", "array", "copyto", "full", "zeros", "ones", "empty",
                            "arange", "linspace", "empty_like", "zeros_like", "ones_like", "full_like"})

_counters = None  # the module's Counters, set by module.build_module


def set_counters(counters) -> None:
    global _counters
    _counters = counters


def unwrap(value, where: str):
    """``value`` with every double array replaced by its NumPy array; a NumPy array raises
    TypeError as CuPy does (it never reads host memory implicitly)."""
    if type(value) is ndarray:
        return value._a
    if isinstance(value, numpy.ndarray):
        raise TypeError(f"{where}: Unsupported type <class 'numpy.ndarray'> (the CuPy double "
                        "refuses host arrays; upload with cupy.asarray)")
    if isinstance(value, (list, tuple)) and value and any(isinstance(v, (ndarray, numpy.ndarray, list, tuple))
                                                          for v in value):
        return type(value)(unwrap(v, where) for v in value)
    return value


def wrap(value):
    """NumPy results as double arrays (scalars become 0-d arrays, as CuPy's reductions give)."""
    if isinstance(value, numpy.ndarray):
        return ndarray(value)
    if isinstance(value, numpy.generic):
        return ndarray(numpy.asarray(value))
    if isinstance(value, tuple):
        return tuple(wrap(v) for v in value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


def _dtypes(values) -> set:
    found = set()
    for v in values:
        if type(v) is ndarray:
            found.add(v._a.dtype)
        elif isinstance(v, (list, tuple)):
            found |= _dtypes(v)
    return found


def compute(name: str, function, args, kwargs):
    """Run ``function`` on unwrapped arguments, count it, record a float32 -> float64 promotion."""
    where = f"cupy.{name}"
    raw_args = [unwrap(a, where) for a in args]
    raw_kwargs = {k: unwrap(v, where) for k, v in kwargs.items()}
    result = wrap(function(*raw_args, **raw_kwargs))
    if name not in VIEWS:
        _counters.launches += 1
        if name not in EXPLICIT_CASTS and _promoted(args, kwargs, result):
            _counters.float64_from_float32.append(name)
    return result


def _promoted(args, kwargs, result) -> bool:
    inputs = _dtypes(list(args) + list(kwargs.values()))
    outputs = _dtypes(result if isinstance(result, (tuple, list)) else [result])
    return inputs == {numpy.dtype(numpy.float32)} and numpy.dtype(numpy.float64) in outputs


def _is_basic_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, numpy.integer, slice)) or i is None or i is Ellipsis for i in items)


class _Memory:
    """``a.data``: CuPy's MemoryPointer, whose ``ptr`` is the address (here: host memory)."""

    def __init__(self, array: numpy.ndarray):
        self.ptr = array.ctypes.data


class _Device:
    id = 0

    def __repr__(self):
        return "<CUDA Device 0>"


class ndarray:  # noqa: N801 - cupy.ndarray
    """A device array of the double: NumPy's ``_a`` behind CuPy's interface."""

    __slots__ = ("_a",)
    __array_priority__ = 100  # as CuPy's: NumPy scalars on the left defer to our operators

    def __init__(self, array: numpy.ndarray):
        self._a = array

    # ----- what CuPy refuses or makes explicit ----------------------------------------------
    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def get(self, stream=None, order="C", out=None) -> numpy.ndarray:
        _counters.syncs += 1
        _counters.record("sync")
        return self._a.copy()

    def set(self, arr, stream=None) -> None:
        _counters.uploads += 1
        self._a[...] = arr

    def item(self):
        _counters.syncs += 1
        _counters.record("sync")
        return self._a.item()

    def tolist(self):
        _counters.syncs += 1
        return self._a.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def __index__(self):
        return operator.index(self.item())

    def __repr__(self):
        _counters.syncs += 1
        return repr(self._a)

    __str__ = __repr__

    # ----- metadata ----------------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: self._a.flags)
    data = property(lambda self: _Memory(self._a))
    device = property(lambda self: _Device())
    T = property(lambda self: ndarray(self._a.T))
    base = property(lambda self: None if self._a.base is None else ndarray(self._a.base))

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (ndarray(numpy.asarray(row)) if not isinstance(row, numpy.ndarray) else ndarray(row)
                for row in self._a)

    def __getattr__(self, name):
        if name.startswith("__"):  # __array_interface__ & co. would hand NumPy the host memory
            raise AttributeError(name)
        method = getattr(self._a, name)  # astype, sum, max, copy, fill, ...
        if not callable(method):
            return wrap(method)
        return lambda *args, **kwargs: compute(name, method, args, kwargs)

    # ----- indexing -----------------------------------------------------------------------
    def __getitem__(self, index):
        name = "__getitem__basic" if _is_basic_index(index) else "__getitem__"
        return compute(name, self._a.__getitem__, (index,), {})

    def __setitem__(self, index, value):
        compute("__setitem__", self._a.__setitem__, (index, value), {})

    # ----- NumPy's protocols: numpy.exp(a) works on CuPy arrays too ---------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if "out" in kwargs:
            kwargs["out"] = tuple(kwargs["out"])
        return compute(ufunc.__name__, getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return compute(func.__name__, func, args, kwargs)


def _binary(name: str):
    op = getattr(operator, name)

    def method(self, other):
        return compute(name, op, (self, other), {})
    method.__name__ = f"__{name}__"
    return method


def _reflected(name: str):
    op = getattr(operator, name)

    def method(self, other):
        return compute(name, lambda a, b: op(b, a), (self, other), {})
    method.__name__ = f"__r{name}__"
    return method


def _inplace(name: str):
    op = getattr(operator, f"i{name.rstrip('_')}")

    def method(self, other):
        compute(f"i{name}", op, (self, other), {})
        return self
    method.__name__ = f"__i{name}__"
    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_", "xor"):
    _dunder = _name.rstrip("_")
    setattr(ndarray, f"__{_dunder}__", _binary(_name))
    setattr(ndarray, f"__r{_dunder}__", _reflected(_name))
    setattr(ndarray, f"__i{_dunder}__", _inplace(_name))
for _name in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(ndarray, f"__{_name}__", _binary(_name))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_name}__", (lambda op: lambda self: compute(op.__name__, op, (self,), {}))(
        getattr(operator, _name)))
ndarray.__hash__ = None
ndarray.__module__ = "cupy"
