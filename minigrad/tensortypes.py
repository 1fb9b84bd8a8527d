"""PyTorch's legacy tensor types (``FloatTensor``, ``LongTensor``, ...), still used by many
training scripts: each is a type for ``isinstance`` and ``Tensor.type(T)``, and a constructor,
``FloatTensor(data)`` (an array, a list or a Tensor, cast to its dtype) or ``FloatTensor(2, 3)``
(zeros of that shape). The CPU ones are ``minigrad.FloatTensor``..., the GPU ones
``minigrad.cuda.FloatTensor``... (``tensor_types('cuda')``), on the current GPU.
"""
from __future__ import annotations

import numpy

from ._device import device as _device
from .backends import backend_for_device
from .tensor import Tensor, as_dtype, legacy_constructor_array

_DTYPE_OF_TYPE = {
    "FloatTensor": "float32", "DoubleTensor": "float64", "HalfTensor": "float16",
    "LongTensor": "int64", "IntTensor": "int32", "ByteTensor": "uint8", "BoolTensor": "bool",
}


class tensortype(type):  # noqa: N801  (the name of type(torch.FloatTensor))
    """The type of ``FloatTensor`` and its kin: ``dtype`` and ``device`` say what they hold."""

    dtype: numpy.dtype
    device: _device  # without an index: 'cuda' types take any GPU's tensors

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device == cls.device

    def __call__(cls, *data) -> Tensor:
        array = legacy_constructor_array(data, cls.dtype)
        return Tensor._leaf(backend_for_device(cls.device).place(array))

    def __repr__(cls) -> str:
        return f"<class '{cls.__qualname__}'>"


def tensor_types(device: str) -> dict[str, tensortype]:
    """name -> type for the tensors of ``device`` ('cpu' or 'cuda')."""
    prefix = "minigrad." if device == "cpu" else f"minigrad.{device}."
    return {
        name: tensortype(name, (), {"dtype": numpy.dtype(dtype), "device": _device(device),
                                    "__qualname__": prefix + name})
        for name, dtype in _DTYPE_OF_TYPE.items()
    }


CPU_TYPES = tensor_types("cpu")


def type_name(t: Tensor) -> str:
    """'minigrad.FloatTensor', 'minigrad.cuda.LongTensor', ...: the name of ``t``'s type."""
    for name, dtype in _DTYPE_OF_TYPE.items():
        if t.dtype == numpy.dtype(dtype):
            return ("minigrad.cuda." if t.is_cuda else "minigrad.") + name
    raise TypeError(f"no legacy tensor type holds dtype {t.dtype}")


def _parse_type_name(name: str) -> tuple[numpy.dtype, str]:
    """'torch.cuda.FloatTensor' -> (float32, 'cuda'); also 'minigrad.' names and bare ones."""
    *prefix, last = name.split(".")
    if last not in _DTYPE_OF_TYPE or prefix[:1] not in ([], ["torch"], ["minigrad"]):
        raise TypeError(f"Tensor.type: unknown type {name!r}; expected one of "
                        f"{sorted(_DTYPE_OF_TYPE)}, optionally prefixed 'torch.' or 'torch.cuda.'")
    return numpy.dtype(_DTYPE_OF_TYPE[last]), "cuda" if "cuda" in prefix else "cpu"


def convert(t: Tensor, target) -> Tensor | str:
    """``Tensor.type(target)`` (see there)."""
    if target is None:
        return type_name(t)
    if isinstance(target, tensortype):
        dtype, device = target.dtype, target.device
    elif isinstance(target, str) and target.endswith("Tensor"):
        dtype, device = _parse_type_name(target)
    else:
        return t.astype(as_dtype(target))
    return t.to(device).astype(dtype)  # an index-less 'cuda' keeps a cuda tensor on its GPU
