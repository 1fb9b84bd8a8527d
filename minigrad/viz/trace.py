"""``viz.trace``: which module (and which backward pass) recorded each op node.

Nodes do not know their module, and the op path must not pay for telling them. So
while a trace is active, and only then, ``Function.apply`` and ``Module.__call__``
are wrapped: a module call pushes its qualified name, and every node that apply
records is noted with the module on top, its input shapes (for FLOP counts) and its
backward pass. Each noted node's ``backward`` is wrapped on the instance, so what a
``create_graph=True`` backward records is attributed to the module of the node being
differentiated. Leaving the trace restores everything.

Nodes of the engine's interface carry their ``backward_pass``; for older nodes the trace
stamps it the same way, by wrapping the engine's ``run_backward``: 1 + the deepest pass
among the nodes behind the outputs the walk starts from.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy

from .. import autograd, tensor
from ..autograd import Function
from ..nn.module import Module
from ..tensor import Tensor
from .graph import build_graph


@dataclass
class NodeRecord:
    """What a trace noted about one node (it keeps the node alive, so ids stay unique)."""

    node: Function
    module: str | None
    input_shapes: tuple
    backward_pass: int


class trace:
    """Context manager: ``with viz.trace(critic) as t: ...`` notes every op node recorded
    inside it. Run the forward *and* the ``create_graph=True`` backward inside it.

    ``module``: the root whose submodules name the nodes (``net.0`` ...); None notes
    backward passes and shapes only.
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
        self._context = [(None, 0)]  # (module name, backward pass) of what is running now
        self._saved = None
        self._saved_engine: list = []

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
            tracer._context.append((name, tracer._context[-1][1]))
            try:
                return call(module, *args, **kwargs)
            finally:
                tracer._context.pop()

        Function.apply = classmethod(traced_apply)
        Module.__call__ = traced_call
        self._wrap_engine()
        return self

    def _wrap_engine(self) -> None:
        """Stamp what a backward walk records with 1 + the deepest pass it starts from."""
        for namespace in (autograd, tensor):
            run = getattr(namespace, "run_backward", None)
            if run is None:
                continue
            self._saved_engine.append((namespace, run))

            def traced_run(outputs, *args, _run=run, **kwargs):
                self._context.append((None, 1 + self._deepest_pass(outputs)))
                try:
                    return _run(outputs, *args, **kwargs)
                finally:
                    self._context.pop()

            namespace.run_backward = traced_run

    def __exit__(self, *exc):
        Function.apply, Module.__call__ = self._saved
        self._saved = None
        for namespace, run in self._saved_engine:
            namespace.run_backward = run
        self._saved_engine = []
        for record in self._records.values():
            record.node.__dict__.pop("backward", None)

    def _note(self, out, inputs) -> None:
        first = out[0] if isinstance(out, tuple) else out
        node = first.grad_fn if isinstance(first, Tensor) else None
        if node is None or self.record_of(node) is not None:
            return
        module, backward_pass = self._context[-1]
        shapes = tuple(tuple(numpy.shape(x)) if not isinstance(x, Tensor) else x.shape
                       for x in inputs)
        record = NodeRecord(node, module, shapes, backward_pass)
        self._records[id(node)] = record
        node.backward = self._attributed_backward(record)

    def _deepest_pass(self, outputs) -> int:
        keys = build_graph(list(outputs)).nodes
        return max((r.backward_pass for r in map(self.record_with_id, keys) if r), default=0)

    def _attributed_backward(self, record: NodeRecord):
        """The node's backward, run with its module on top (in the walk's backward pass)."""
        backward = type(record.node).backward.__get__(record.node)

        def attributed(*grad_outputs):
            self._context.append((record.module, self._context[-1][1]))
            try:
                return backward(*grad_outputs)
            finally:
                self._context.pop()

        return attributed
