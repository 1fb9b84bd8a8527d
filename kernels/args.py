"""Size, stride and padding arguments, read in one place.

The conv kernels' geometry, the pooling ops and the nn conv layers all take "an int or a
pair" and the conv padding forms; these helpers are the only code that reads them, so
every caller accepts the same values and raises the same error naming the argument:
TypeError for a value of the wrong kind (a float, a bool, a string where ints belong),
ValueError for the wrong length, an unknown padding string or a value out of range.

It lives in ``kernels`` because the kernels are the lowest layer: ``kernels.conv`` uses it,
and ``minigrad`` imports it from below without an upward import.
"""
from __future__ import annotations

import operator

__all__ = [
    "ntuple", "pair", "positive_pair", "conv_padding", "padding4", "same_padding",
    "non_negative_padding4", "output_padding_pair",
]

_PADDING_FORMS = "an int, (ph, pw), (top, bottom, left, right), 'same' or 'valid'"


def _as_int(value) -> int | None:
    """``value`` as an int if it is an integer (Python, NumPy, a 0-d integer array), else None.
    A bool is not a size, so it is None too."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def _int(name: str, value) -> int:
    as_int = _as_int(value)
    if as_int is None:
        raise TypeError(f"{name} must contain ints, got {value!r} ({type(value).__name__})")
    return as_int


def _items(value, name: str, expected: str) -> tuple:
    """The elements of a sequence argument (a string is not one)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be {expected}, got {value!r}")
    try:
        return tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be {expected}, got {value!r}") from None


def ntuple(value, n: int, name: str) -> tuple[int, ...]:
    """An int v -> (v,) * n; a sequence of n ints -> those ints as a tuple.

    ``name`` is what the error calls the argument, e.g. ``"max_pool2d: kernel_size"``.
    """
    as_int = _as_int(value)
    if as_int is not None:
        return (as_int,) * n
    expected = f"an int or a sequence of {n} ints"
    items = _items(value, name, expected)
    if len(items) != n:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return tuple(_int(name, item) for item in items)


def pair(value, name: str) -> tuple[int, int]:
    """An int or a pair of ints -> (a, b)."""
    return ntuple(value, 2, name)


def positive_pair(value, name: str) -> tuple[int, int]:
    """``pair`` whose two values must be > 0 (sizes, strides, dilations)."""
    result = pair(value, name)
    if min(result) <= 0:
        raise ValueError(f"{name} must be positive, got {result}")
    return result


def conv_padding(value, name: str = "padding") -> str | tuple[int, ...]:
    """A conv padding, checked, in the form a layer stores it (PyTorch's attribute).

    'same' / 'valid' (any case) -> that string in lower case; an int or (ph, pw) -> (ph, pw);
    (top, bottom, left, right) -> those four ints. The sizes 'same' depends on come with
    the input: :func:`padding4` resolves it.
    """
    if isinstance(value, str):
        mode = value.lower()
        if mode not in ("same", "valid"):
            raise ValueError(f"{name} string must be 'same' or 'valid', got {value!r}")
        return mode
    as_int = _as_int(value)
    if as_int is not None:
        return (as_int, as_int)
    items = _items(value, name, _PADDING_FORMS)
    if len(items) not in (2, 4):
        raise ValueError(f"{name} must be {_PADDING_FORMS}; got {value!r}")
    return tuple(_int(name, item) for item in items)


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's SAME rule for one dim: out = ceil(size / stride) and the total padding
    max((out - 1)*stride + (kernel - 1)*dilation + 1 - size, 0), split (before, after) with
    the odd pixel after. ``stride`` must already be positive."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def padding4(value, in_hw: tuple[int, int], kernel_hw: tuple[int, int],
             stride: tuple[int, int], dilation: tuple[int, int],
             name: str = "padding") -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of a conv padding argument for an input of size ``in_hw``.

    'valid' is no padding, 'same' is :func:`same_padding` on each dim (for any stride),
    (ph, pw) pads ph at top and bottom and pw at left and right. Signs are not checked here:
    :func:`non_negative_padding4` does that where the geometry is built.
    """
    spec = conv_padding(value, name)
    if spec == "valid":
        return (0, 0, 0, 0)
    if spec == "same":
        return (same_padding(in_hw[0], kernel_hw[0], stride[0], dilation[0])
                + same_padding(in_hw[1], kernel_hw[1], stride[1], dilation[1]))
    if len(spec) == 2:
        return (spec[0], spec[0], spec[1], spec[1])
    return spec


def non_negative_padding4(value, name: str = "padding") -> tuple[int, int, int, int]:
    """An int or (top, bottom, left, right) -> four ints, each >= 0."""
    pad = ntuple(value, 4, name)
    if min(pad) < 0:
        raise ValueError(f"{name} must be non-negative, got (top, bottom, left, right) = {pad}")
    return pad


def output_padding_pair(value, stride: tuple[int, int], dilation: tuple[int, int],
                        name: str = "output_padding") -> tuple[int, int]:
    """A transposed conv's output_padding as a pair, each 0 <= op < max(stride, dilation)
    (PyTorch's rule: more would add rows no input reaches)."""
    result = pair(value, name)
    if not all(0 <= o < max(s, d) for o, s, d in zip(result, stride, dilation)):
        raise ValueError(f"{name} {result} must be >= 0 and smaller than either stride {stride} "
                         f"or dilation {dilation}")
    return result
