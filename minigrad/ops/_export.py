"""``@export``: one declaration on an op's functional form makes all of its public names.

    @export(top=True, method=True, functional=True)
    def tanh(a: Tensor) -> Tensor:
        ...  # a docstring naming the op class (``Tanh``), then ``return Tanh.apply(a)``

gives ``minigrad.tanh``, ``Tensor.tanh`` and ``minigrad.nn.functional.tanh``. Each of
``top`` (``minigrad.NAME``), ``method`` (``Tensor.NAME``) and ``functional``
(``minigrad.nn.functional.NAME``) is False, True (the function's own name) or a tuple of
names, for aliases: ``method=("reshape", "view")``.

The method *is* the function (``Tensor.tanh is minigrad.tanh``): no wrapper, so no extra
call per use, and ``help``, ``inspect.getsource`` and an IDE's "go to definition" land on
the op's own module. ``method`` is set on ``Tensor`` when the op module is imported
(``minigrad.tensor`` imports the ops at its end); ``top`` and ``functional`` are only
marked on the function, and ``minigrad/__init__.py`` and ``nn/functional.py`` collect them
with :func:`collect`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType

from ..tensor import Tensor

#: the attribute holding an exported function's names:
#: {"top": (...), "method": (...), "functional": (...)}
EXPORTED = "__minigrad_exports__"


def _names(fn: Callable, where: str, value) -> tuple[str, ...]:
    if value is True:
        return (fn.__name__,)
    if value is False:
        return ()
    if isinstance(value, tuple) and value and all(isinstance(n, str) for n in value):
        return value
    raise TypeError(f"@export({where}=...) on {fn.__name__}: expected True, False or a tuple of "
                    f"names, got {value!r}")


def export(*, top=False, method=False, functional=False) -> Callable[[Callable], Callable]:
    """Declare where the decorated functional form appears; it is returned unchanged."""

    def declare(fn: Callable) -> Callable:
        if not (fn.__doc__ or "").strip():
            raise TypeError(f"@export: {fn.__module__}.{fn.__name__} needs a docstring; it is "
                            "the docstring of every name the op gets")
        names = {"top": _names(fn, "top", top), "method": _names(fn, "method", method),
                 "functional": _names(fn, "functional", functional)}
        for name in names["method"]:
            if name in vars(Tensor):
                raise TypeError(f"@export: Tensor.{name} is already defined; "
                                f"{fn.__module__}.{fn.__name__} cannot become it")
            setattr(Tensor, name, fn)
        setattr(fn, EXPORTED, names)
        return fn

    return declare


def collect(families: Iterable[ModuleType], namespace: str) -> dict[str, Callable]:
    """name -> function for every op in ``families`` exported to ``namespace``
    ('top' or 'functional'). Two different functions claiming one name raise."""
    found: dict[str, Callable] = {}
    for family in families:
        for obj in vars(family).values():
            for name in getattr(obj, EXPORTED, {}).get(namespace, ()):
                if found.setdefault(name, obj) is not obj:
                    raise TypeError(f"@export: {namespace} name {name!r} is claimed by both "
                                    f"{found[name].__module__} and {obj.__module__}")
    return found
