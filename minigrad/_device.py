"""``minigrad.device``: where a tensor's array lives ('cpu', or 'cuda' with a GPU index).

The PyTorch shape: ``device('cuda:1')``, ``device('cuda', 1)``, ``device('cpu')``, with ``type``
and ``index`` (None when not given). Unlike torch 2.13's, a device also compares equal to its
string, and an index-less device to every device of its type (``t.device == 'cuda'`` is true for
a tensor on cuda:1), so code written against the old string devices keeps working.
"""
from __future__ import annotations

# spellings the backends accepted before the device object existed, kept for the CLIs
_ALIASES = {"cpu": "cpu", "numpy": "cpu", "cuda": "cuda", "gpu": "cuda", "cupy": "cuda"}


class device:  # noqa: N801 - torch.device's name
    """A device: ``type`` ('cpu' or 'cuda') and ``index`` (an int for a GPU, or None)."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None):  # noqa: A002 - torch's name
        if isinstance(type, device):
            type, parsed_index = type.type, type.index
        else:
            type, parsed_index = _parse(type)
        if index is not None and parsed_index is not None:
            raise ValueError(f"device {type}:{parsed_index} given a second index {index}")
        index = parsed_index if index is None else index
        if index is not None:
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise ValueError(f"device index must be a non-negative int, got {index!r}")
            if type == "cpu" and index != 0:
                raise ValueError(f"the cpu device has index 0 only, got {index}")
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError("a device is immutable")

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (
            self.index == other.index or self.index is None or other.index is None)

    def __hash__(self):
        return hash(self.type)  # equal devices (cuda and cuda:1) must hash alike

    def __reduce__(self):
        return (device, (self.type, self.index))


def _parse(spec) -> tuple[str, int | None]:
    """'cuda:1' -> ('cuda', 1); 'cpu' -> ('cpu', None); the aliases 'numpy', 'gpu', 'cupy'."""
    if isinstance(spec, int) and not isinstance(spec, bool):
        return "cuda", spec  # torch.device(1) is cuda:1
    if not isinstance(spec, str):
        raise TypeError(f"a device is a string like 'cpu' or 'cuda:0', got {type(spec).__name__}")
    name, _, index = spec.partition(":")
    if name not in _ALIASES or (index and not index.isdigit()):
        raise ValueError(f"unknown device {spec!r}; expected 'cpu', 'cuda' or 'cuda:<index>'")
    return _ALIASES[name], int(index) if index else None


def as_device(spec) -> device | None:
    """``spec`` (a device, a string, a GPU index or None) as a device, or None."""
    if spec is None or isinstance(spec, device):
        return spec
    return device(spec)


def is_device_spec(value) -> bool:
    """Whether ``value`` names a device (a device object or a device string), not a dtype."""
    if isinstance(value, device):
        return True
    if not isinstance(value, str):
        return False
    try:
        _parse(value)
    except ValueError:
        return False
    return True


CPU = device("cpu")
