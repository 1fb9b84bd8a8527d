"""The autograd core: grad mode, ``Function`` and the graph walk.

An op is one ``Function`` subclass:

* ``forward(*arrays)`` computes on raw backend arrays and may save what its
  backward needs (``save_inputs``, ``save_output``, or plain attributes).
* ``backward(*grad_outputs)`` receives and returns ``Tensor`` objects and is
  written with minigrad ops. The engine runs it with grad mode on when
  ``create_graph=True``, so the backward is itself recorded and can be
  differentiated again, to any order. With ``create_graph=False`` it runs with
  grad mode off: no graph is built and it costs a plain vector-Jacobian product.

``self.needs_input_grad`` tells backward which input gradients are wanted in
this pass (a requires-grad input that leads nowhere asked for is skipped); it
returns ``None`` for the others.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .tensor import Tensor

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Whether ops record a graph for differentiation."""
    return _grad_enabled


class set_grad_enabled:
    """Context manager (and decorator) that sets grad mode on or off."""

    def __init__(self, mode: bool):
        global _grad_enabled
        self.prev = _grad_enabled
        self.mode = bool(mode)
        _grad_enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev

    def __call__(self, func):
        mode = self.mode
        # the constructor already switched the mode: undo it, it applies per call
        self.__exit__()

        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        wrapper.__wrapped__ = func
        wrapper.__name__ = getattr(func, "__name__", "wrapper")
        wrapper.__doc__ = func.__doc__
        return wrapper


class no_grad(set_grad_enabled):
    """``with no_grad():`` runs ops without recording a graph."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """``with enable_grad():`` records a graph even inside ``no_grad``."""

    def __init__(self):
        super().__init__(True)


_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or to read saved values after they "
    "were freed). The saved arrays of a graph are freed by .backward() and minigrad.grad() "
    "unless you pass retain_graph=True (or create_graph=True) to the first call."
)


class Function:
    """Base class of every differentiable op. See the module docstring.

    Parameters that are not tensors (dims, strides, ...) are passed to
    ``apply`` as keywords and become attributes of the node.
    """

    def __init__(self, **params):
        self.__dict__.update(params)
        self.needs_input_grad: tuple[bool, ...] = ()
        self.edges: tuple = ()
        self._recording = False
        self._freed = False
        self._saved_inputs: dict[int, Tensor] = {}
        self._saved_output = None
        self._input_tensors: tuple = ()
        self._outputs_meta: tuple = ()

    # ----- saving, used inside forward -------------------------------------------------
    def save_inputs(self, *indices: int | None) -> None:
        """Keep input tensors ``indices`` for backward (``None`` entries are ignored)."""
        if self._recording:
            for i in indices:
                if i is not None:
                    self._saved_inputs[i] = self._input_tensors[i]

    def save_output(self) -> None:
        """Keep the output for backward. Only its array is held (a tensor would point
        back at this node: a reference cycle); ``self.output`` rebuilds the tensor."""
        if self._recording:
            self._saved_output = True

    def saved_input(self, i: int) -> Tensor:
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        return self._saved_inputs[i]

    @property
    def output(self) -> Tensor:
        """The output as a tensor of this node's graph, so backward can differentiate it."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        if self._saved_output is None:
            raise RuntimeError(f"{type(self).__name__}: forward did not call save_output()")
        from .tensor import Tensor

        out = Tensor._make(self._saved_output, requires_grad=True)
        out.grad_fn = self
        return out

    def release(self) -> None:
        """Free what forward saved; the node stays in the graph as an edge."""
        self._freed = True
        self._saved_inputs = {}
        self._saved_output = None
        self.release_saved()

    def release_saved(self) -> None:
        """Ops that keep raw arrays as attributes drop them here."""

    # ----- the op interface ------------------------------------------------------------
    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{type(self).__name__} is not differentiable")

    @property
    def xp(self):
        return self.backend.xp

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on tensors (or scalars/arrays, taken as constants) and record it."""
        from .tensor import Tensor, _wrap_inputs

        tensors, backend, dtype = _wrap_inputs(cls.__name__, inputs)
        fn = cls(**params)
        fn.backend = backend
        fn.dtype = dtype
        record = _grad_enabled and any(t.requires_grad for t in tensors)
        if record:
            fn._recording = True
            fn._input_tensors = tensors
            fn.needs_input_grad = tuple(t.requires_grad for t in tensors)
        try:
            raw = fn.forward(*(t.data for t in tensors))
        except ValueError as exc:
            if "could not be broadcast" not in str(exc):
                raise
            shapes = " and ".join(str(t.shape) for t in tensors)
            raise ValueError(f"{cls.__name__}: incompatible shapes {shapes} ({exc})") from None
        fn._input_tensors = ()
        fn._recording = False
        multi = isinstance(raw, tuple)
        outs = tuple(Tensor._make(o, requires_grad=record) for o in (raw if multi else (raw,)))
        if record:
            fn.edges = tuple(t._edge() if t.requires_grad else None for t in tensors)
            fn._outputs_meta = tuple((o.shape, o.data.dtype) for o in outs)
            for i, o in enumerate(outs):
                o.grad_fn = fn
                o._output_nr = i
            if fn._saved_output is True:
                fn._saved_output = outs[0].data
        return outs if multi else outs[0]

    def __repr__(self):
        return f"<{type(self).__name__}>"


# ----- the graph walk ----------------------------------------------------------------------
def _topological_order(root_nodes):
    """Functions reachable from ``root_nodes``, consumers before producers."""
    order, seen = [], set()
    for root in root_nodes:
        if root is None or id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.edges))]
        while stack:
            node, it = stack[-1]
            for edge in it:
                if edge is not None and isinstance(edge[0], Function) and id(edge[0]) not in seen:
                    seen.add(id(edge[0]))
                    stack.append((edge[0], iter(edge[0].edges)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _edge_key(edge):
    node, index = edge
    return (id(node), index)


def run_backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor],
    inputs: Sequence[Tensor] | None,
    retain_graph: bool,
    create_graph: bool,
) -> list | None:
    """Propagate ``grad_outputs`` from ``outputs`` back through the graph.

    With ``inputs=None`` gradients are accumulated into the ``.grad`` of every
    leaf that requires grad (``Tensor.backward``). Otherwise the gradients with
    respect to ``inputs`` are returned (``None`` where unreachable) and no
    ``.grad`` is touched (``minigrad.grad``); only the part of the graph that
    leads to ``inputs`` is walked.
    """
    from .tensor import Tensor

    buffers: dict = {}

    def add(key, g):
        buffers[key] = g if key not in buffers else buffers[key] + g

    roots = []
    for out, g in zip(outputs, grad_outputs):
        edge = out._edge()
        if isinstance(edge[0], Function):
            roots.append(edge[0])
        add(_edge_key(edge), g)
    order = _topological_order(roots)

    if inputs is None:
        targets = None
        needed = {id(n) for n in order}
    else:
        targets = {_edge_key(t._edge()): t for t in inputs}
        needed = set()
        for node in reversed(order):  # producers first, so parents are decided
            if any(
                e is not None and (_edge_key(e) in targets or id(e[0]) in needed)
                for e in node.edges
            ):
                needed.add(id(node))

    with set_grad_enabled(create_graph):
        for node in order:
            if id(node) not in needed:
                continue
            grads = []
            for i, (shape, dtype) in enumerate(node._outputs_meta):
                g = buffers.pop((id(node), i), None)
                if targets is not None and (id(node), i) in targets and g is not None:
                    buffers[(id(node), i)] = g  # kept as the answer for a non-leaf input
                if g is None:
                    g = Tensor(node.backend.xp.zeros(shape, dtype))
                grads.append(g)
            node.needs_input_grad = tuple(
                e is not None
                and (targets is None or _edge_key(e) in targets or id(e[0]) in needed)
                for e in node.edges
            )
            input_grads = node.backward(*grads)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if len(input_grads) != len(node.edges):
                raise RuntimeError(
                    f"{type(node).__name__}.backward returned {len(input_grads)} gradients "
                    f"for {len(node.edges)} inputs"
                )
            for edge, want, g in zip(node.edges, node.needs_input_grad, input_grads):
                if not want or g is None:
                    continue
                key = _edge_key(edge)
                if not isinstance(edge[0], Function) and targets is None:
                    _accumulate_leaf(edge[0], g, create_graph)
                else:
                    add(key, g)
            if not retain_graph:
                node.release()

    if targets is None:
        # a leaf used directly as an output (x.backward() on a leaf) gets its gradient too
        for key, g in buffers.items():
            for out in outputs:
                if out.grad_fn is None and out.requires_grad and key == _edge_key(out._edge()):
                    _accumulate_leaf(out, g, create_graph)
        return None
    return [buffers.get(_edge_key(t._edge())) for t in inputs]


def _accumulate_leaf(leaf, g, create_graph):
    if not create_graph:
        g = g.detach()
    if g.shape != leaf.shape:
        raise RuntimeError(f"gradient of shape {g.shape} for a leaf of shape {leaf.shape}")
    leaf.grad = g if leaf.grad is None else leaf.grad + g


def _as_grad_outputs(outputs, grad_outputs, caller):
    from .tensor import Tensor, ones_like

    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"{caller}: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs"
        )
    result = []
    for out, g in zip(outputs, grad_outputs):
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(
                    f"{caller}: grad can be implicitly created only for scalar outputs, but the "
                    f"output has shape {out.shape}; pass a gradient of that shape "
                    f"(e.g. gradient=minigrad.ones_like(output))"
                )
            g = ones_like(out)
        elif not isinstance(g, Tensor):
            g = Tensor(out._backend.asarray(g, dtype=out.dtype))
        if g.shape != out.shape:
            raise RuntimeError(
                f"{caller}: gradient has shape {g.shape} but the output has shape {out.shape}"
            )
        result.append(g)
    return result


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
):
    """Gradients of ``outputs`` with respect to ``inputs`` (torch.autograd.grad's contract).

    Returns a tuple with one tensor per input. With ``create_graph=True`` the
    returned gradients are themselves differentiable (this is how the WGAN-GP
    gradient penalty is trained). ``.grad`` attributes are never touched.
    """
    from .tensor import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = [inputs] if single_input else list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"grad: output {i} does not require grad and has no grad_fn "
                "(was it computed under no_grad, or from inputs without requires_grad?)"
            )
    grad_outputs = _as_grad_outputs(outputs, grad_outputs, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(outputs, grad_outputs, inputs, retain_graph, create_graph)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        if g is not None and not create_graph:
            result[i] = g.detach()
    return tuple(result)
