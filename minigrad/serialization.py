"""``save(obj, path)`` / ``load(path)``: checkpoints as one ``.npz`` file, never pickle.

What can be saved: nested dicts (any of the leaf key types below), lists and
tuples of arrays (NumPy or CuPy), Tensors, NumPy scalars, and Python ints
(any size: a PCG64 state is a 128-bit int), floats, bools, None and strings.
Anything else raises ``TypeError`` naming where it sits in the structure.

The file is an ordinary ``numpy.savez`` archive: each array is a member
``a0``, ``a1``, ... and the member ``__structure__`` holds a JSON description
of the object tree that refers to them, so ``numpy.load(path)`` can inspect it
and ``load`` reads it with ``allow_pickle=False``. Floats are stored as
``float.hex`` strings and ints as decimal strings, so both round-trip exactly.

Arrays come back as NumPy arrays and Tensors (Parameters included) as plain
Tensors (requires_grad=False, on ``device``, 'cpu' by default), bit for bit,
dtype included. Dicts come back as plain dicts with their order and key types
kept (so an OrderedDict state dict loads in order); lists stay lists and tuples
tuples.

Writing is atomic: the archive goes to a temporary file in the destination's
directory, is flushed and fsync'd, then renamed over ``path`` (``os.replace``),
so a crash leaves either the old file or the new one, never half of one. The
path is used as given (no ``.npz`` suffix is added).
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from typing import Any

import numpy

from .backends import backend_for_device, backend_of
from .tensor import Tensor

_FORMAT = "minigrad.checkpoint"
_VERSION = 1
_STRUCTURE_KEY = "__structure__"


class CheckpointError(RuntimeError):
    """A file that is not a readable minigrad checkpoint (truncated, corrupt, foreign)."""


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` to ``path`` atomically as an ``.npz`` archive (see the module docstring)."""
    path = os.fspath(path)
    arrays: dict[str, numpy.ndarray] = {}
    root = _encode(obj, arrays, "obj")
    structure = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root})
    members = {_STRUCTURE_KEY: numpy.frombuffer(structure.encode("utf-8"), dtype=numpy.uint8)}
    members.update(arrays)

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            numpy.savez(f, **members)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def load(path: str | os.PathLike, device: str | None = None) -> Any:
    """Read what ``save`` wrote. Tensors are placed on ``device`` ('cpu' when None);
    plain arrays come back as NumPy arrays. Raises ``CheckpointError`` naming the path
    when the file is truncated, corrupt or not a minigrad checkpoint."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    backend = backend_for_device(device)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] != b"PK":  # numpy.load would try other formats and talk about pickles
        what = "an empty file" if not magic else "not an .npz (zip) archive"
        raise CheckpointError(f"{path!r} is not a readable minigrad checkpoint: {what}")
    try:
        with numpy.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, numpy.lib.npyio.NpzFile) or _STRUCTURE_KEY not in archive.files:
                raise ValueError(f"no {_STRUCTURE_KEY!r} member (not written by minigrad.save)")
            header = json.loads(archive[_STRUCTURE_KEY].tobytes().decode("utf-8"))
            if header.get("format") != _FORMAT:
                raise ValueError(f"unknown format {header.get('format')!r}")
            if header.get("version") != _VERSION:
                raise ValueError(f"format version {header.get('version')}, this minigrad reads {_VERSION}")
            arrays = {name: archive[name] for name in archive.files if name != _STRUCTURE_KEY}
            return _decode(header["root"], arrays, backend)
    except (ValueError, KeyError, TypeError, EOFError, OSError, zipfile.BadZipFile,
            UnicodeDecodeError, AttributeError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # a real I/O problem (permissions, a directory, ...), not a damaged file
        raise CheckpointError(
            f"{path!r} is not a readable minigrad checkpoint (truncated or corrupt?): "
            f"{type(exc).__name__}: {exc}"
        ) from exc


# ----- the structure description ---------------------------------------------------------------
def _encode(obj: Any, arrays: dict, where: str) -> dict:
    """A JSON node for ``obj``; arrays are moved to ``arrays`` under fresh member names."""
    if obj is None:
        return {"t": "none"}
    if isinstance(obj, numpy.generic):  # before the Python types: numpy.float64 is a float
        return {"t": "scalar", "k": _add_array(numpy.asarray(obj), arrays, where)}
    if isinstance(obj, bool):
        return {"t": "bool", "v": obj}
    if isinstance(obj, int):
        return {"t": "int", "v": str(obj)}
    if isinstance(obj, float):
        return {"t": "float", "v": obj.hex()}
    if isinstance(obj, str):
        return {"t": "str", "v": obj}
    if isinstance(obj, Tensor):
        return {"t": "tensor", "k": _add_array(obj.array, arrays, where)}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {"t": kind, "v": [_encode(x, arrays, f"{where}[{i}]") for i, x in enumerate(obj)]}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not (key is None or isinstance(key, (bool, int, float, str))):
                raise TypeError(f"save: dict key {key!r} at {where} is a {type(key).__name__}; "
                                "keys must be str, int, float, bool or None")
            items.append([_encode(key, arrays, where), _encode(value, arrays, f"{where}[{key!r}]")])
        return {"t": "dict", "v": items}
    if hasattr(obj, "__array__") or type(obj).__module__.startswith("cupy"):
        return {"t": "array", "k": _add_array(obj, arrays, where)}
    raise TypeError(f"save: cannot store a {type(obj).__name__} (at {where}); supported: dict, list, "
                    "tuple, Tensor, arrays, int, float, bool, str, None")


def _add_array(array, arrays: dict, where: str) -> str:
    host = numpy.asarray(backend_of(array).to_numpy(array))
    if host.dtype.hasobject:
        raise TypeError(f"save: the array at {where} has dtype object, which needs pickle")
    name = f"a{len(arrays)}"
    arrays[name] = host
    return name


def _decode(node: dict, arrays: dict, backend) -> Any:
    kind = node["t"]
    if kind == "none":
        return None
    if kind == "bool":
        return bool(node["v"])
    if kind == "int":
        return int(node["v"])
    if kind == "float":
        return float.fromhex(node["v"])
    if kind == "str":
        return str(node["v"])
    if kind == "array":
        return arrays[node["k"]]
    if kind == "scalar":
        return arrays[node["k"]][()]
    if kind == "tensor":
        return Tensor._leaf(backend.asarray(arrays[node["k"]]))
    if kind == "list":
        return [_decode(x, arrays, backend) for x in node["v"]]
    if kind == "tuple":
        return tuple(_decode(x, arrays, backend) for x in node["v"])
    if kind == "dict":
        return {_decode(k, arrays, backend): _decode(v, arrays, backend) for k, v in node["v"]}
    raise ValueError(f"unknown node type {kind!r} in the structure description")


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
