"""``viz.trace``: which module recorded each op node, and the shapes it read.

Nodes do not know their module, and the op path must not pay for telling them. So
while a trace is active, and only then, ``Function.apply`` and ``Module.__call__``
are wrapped: a module call pushes its qualified name, and every node that apply
records is noted with the module on top and its input shapes (for FLOP counts). Each
noted node's ``backward`` is wrapped on the instance, so what a ``create_graph=True``
backward records is attributed to the module of the node being differentiated.
Leaving the trace restores everything. (The backward pass is the node's own
``backward_pass``, stamped by the engine.)
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy

from ..autograd import Function
from ..nn.module import Module
from ..tensor import Tensor


@dataclass
class NodeRecord:
    """What a trace noted about one node (it keeps the node alive, so ids stay unique)."""

    node: Function
    module: str | None
    input_shapes: tuple


class trace:
    """Context manager: ``with viz.trace(critic) as t: ...`` notes every op node recorded
    inside it. Run the forward *and* the ``create_graph=True`` backward inside it.

    ``module``: the root whose submodules name the nodes (``net.0`` ...); None notes
    the input shapes only.
    """

    def __init__(self, module: Module | None = None):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"viz.trace: expected a Module or None, got {type(module).__name__}")
        self.module = module
        self.modules: dict[str, Module] = {} if module is None else dict(module.named_modules())
        self._module_names = {id(m): name for name, m in self.modules.items()}
        self._parameter_modules = {id(p): name for name, m in self.modules.items()
                                   for p in m.parameters(recurse=False)}
        self._records: dict[int, NodeRecord] = {}
        self._modules_running: list[str | None] = [None]  # the innermost is last
        self._saved = None

    # ----- what the trace noted ------------------------------------------------------------
    def record_of(self, node) -> NodeRecord | None:
        """The record of ``node``, or None if it was not recorded inside this trace."""
        record = self._records.get(id(node))
        return record if record is not None and record.node is node else None

    def record_with_id(self, key: int) -> NodeRecord | None:
        """The record of the node whose ``id()`` is ``key`` (a ``GraphNode.key``)."""
        return self._records.get(key)

    @property
    def records(self) -> list[NodeRecord]:
        """Every noted node, in the order they were recorded."""
        return list(self._records.values())

    def module_of_parameter(self, tensor) -> str | None:
        """The path of the traced module that registers ``tensor`` as its own parameter."""
        return self._parameter_modules.get(id(tensor))

    # ----- the wrapping ----------------------------------------------------------------------
    def __enter__(self):
        if self._saved is not None:
            raise RuntimeError("viz.trace is not reentrant")
        self._saved = (Function.__dict__["apply"], Module.__dict__["__call__"])
        apply, call = self._saved
        tracer = self

        def traced_apply(cls, *inputs, **params):
            out = apply.__func__(cls, *inputs, **params)
            tracer._note(out, inputs)
            return out

        def traced_call(module, *args, **kwargs):
            name = tracer._module_names.get(id(module))
            if name is None:
                return call(module, *args, **kwargs)
            with tracer._running(name):
                return call(module, *args, **kwargs)

        Function.apply = classmethod(traced_apply)
        Module.__call__ = traced_call
        return self

    def __exit__(self, *exc):
        Function.apply, Module.__call__ = self._saved
        self._saved = None
        for record in self._records.values():
            record.node.__dict__.pop("backward", None)

    @contextmanager
    def _running(self, module: str | None):
        """``module`` is the innermost running one inside this context."""
        self._modules_running.append(module)
        try:
            yield
        finally:
            self._modules_running.pop()

    def _note(self, out, inputs) -> None:
        first = out[0] if isinstance(out, tuple) else out
        node = first.grad_fn if isinstance(first, Tensor) else None
        if node is None or self.record_of(node) is not None:
            return
        shapes = tuple(x.shape if isinstance(x, Tensor) else tuple(numpy.shape(x))
                       for x in inputs)
        record = NodeRecord(node, self._modules_running[-1], shapes)
        self._records[id(node)] = record
        node.backward = self._attributed_backward(record)

    def _attributed_backward(self, record: NodeRecord):
        """The node's backward, run with the node's module as the innermost running one."""
        backward = type(record.node).backward.__get__(record.node)

        def attributed(*grad_outputs):
            with self._running(record.module):
                return backward(*grad_outputs)

        return attributed
