"""Ops by family; each op is one ``Function`` subclass with its forward and backward, and a
functional form whose ``@export`` gives it its public names (see ``_export``)."""
from collections.abc import Callable

from . import activation, conv, elementwise, inplace, linalg, loss, norm, pool, reduce, shape
from ._export import collect

FAMILIES = (elementwise, reduce, shape, linalg, activation, conv, norm, pool, loss, inplace)


def public(namespace: str) -> dict[str, Callable]:
    """name -> op for ``namespace``: 'top' (``minigrad.NAME``) or 'functional' (``nn.functional``)."""
    return collect(FAMILIES, namespace)
