"""``Sequential``: modules applied in order."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from .module import Module


class Sequential(Module):
    """``Sequential(m0, m1, ...)`` or ``Sequential(OrderedDict(name=module, ...))``.

    forward(x) = ...m1(m0(x)). Children are named '0', '1', ... (or by the
    dict's keys), so parameter names match PyTorch's ('0.weight').
    Indexing by int returns a module, by slice a new Sequential sharing them.
    """

    def __init__(self, *modules: Module | OrderedDict):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for a Sequential of length {n}")
        return list(self._modules.values())[index % n]

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self
