"""The autograd core: grad mode, ``Function`` (an op and a node of the graph), the graph walk.

An op is one ``Function`` subclass:

* Its non-tensor parameters (dims, a shape, a conv geometry...) are declared as class
  annotations, ``dims: tuple[int, ...]``, with a default value where one is optional. They
  are passed to ``apply`` as keywords; an unknown or missing one is an error naming the op.
* ``forward(*arrays)`` computes on raw backend arrays and may save what its backward needs
  (``save_inputs``, ``save_output``, or plain attributes).
* ``backward(*grad_outputs)`` receives and returns ``Tensor`` objects and is written with
  minigrad ops. The engine runs it with grad mode on when ``create_graph=True``, so the
  backward is itself recorded and can be differentiated again, to any order. With
  ``create_graph=False`` it runs with grad mode off: no graph is built and it costs a plain
  vector-Jacobian product.
* ``backward_arrays(*grad_arrays)``, optional, is the same product on raw arrays, for
  the walks that build no graph: the hot small ops (add, matmul, the shape ops...) define
  it, so that such a walk does not pay an op dispatch per term. It must compute what
  ``backward`` computes, with the same array operations (the op tests check both against
  PyTorch: first order through this one, higher orders through ``backward``).

A node is recorded when grad mode is on and an input requires grad; ``self.recording`` says
so. ``self.needs_input_grad`` has one bool per input: in forward, whether that input requires
grad (all False when not recording); in backward, whether its gradient is wanted in this pass
(a requires-grad input that leads nowhere asked for is skipped). Backward returns ``None``
for the others.

The graph, with PyTorch's names: a recorded node's ``next_functions`` holds one
``(node, output_index)`` per input, the node that receives that input's gradient, or
``(None, 0)`` for an input that needs none. A leaf tensor that requires grad is received
by its ``AccumulateGrad`` node, which adds the gradient into ``.grad``. So a backward pass
is one walk over nodes, from the outputs to the leaves.
"""
from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Iterable, Sequence
from types import MappingProxyType

_grad_enabled = True
# The ``backward_pass`` stamped on nodes recorded now: 0 in forward code; k + 1 while the engine
# runs, with create_graph=True, a walk whose deepest node is of pass k.
_backward_pass = 0
# While a walk runs: the memory (the id of the array owning it) of the root gradients and of
# each gradient it has stored as a leaf's .grad. One gradient array can reach several leaves
# (``a + b`` hands both the same one, ``a.reshape(n) + b`` a view of it), and ``.grad`` may be
# changed in place (``p.grad.mul_(s)``), so a leaf whose gradient's memory is already held
# elsewhere gets a copy (see AccumulateGrad).
_arrays_handed_out: set | None = None


def is_grad_enabled() -> bool:
    """Whether ops record a graph for differentiation."""
    return _grad_enabled


def is_recorded(tensors: Iterable) -> bool:
    """Whether an op on ``tensors`` is recorded: grad mode is on and one requires grad.

    ``Function.apply`` applies this rule (inlined, it is the hot path); an op that would
    do work only a recorded node needs (max_pool2d's argmax) asks it before applying.
    """
    return _grad_enabled and any(t.requires_grad for t in tensors)


class _GradMode:
    """Grad mode ``mode`` inside a ``with`` block, or around every call of a decorated function."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)

    def __enter__(self):
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.mode
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev

    def __call__(self, func):
        mode = self.mode

        @functools.wraps(func)
        def with_grad_mode(*args, **kwargs):
            with _GradMode(mode):  # a fresh context per call, so a recursive call nests
                return func(*args, **kwargs)

        return with_grad_mode


class _FixedGradMode(_GradMode):
    """A grad mode with no argument, which also decorates without parentheses (``@no_grad``)."""

    mode: bool

    def __new__(cls, func=None):
        if func is None:
            return super().__new__(cls)
        return cls()(func)

    def __init__(self):
        pass  # ``mode`` is the class's


class no_grad(_FixedGradMode):
    """``with no_grad():`` (or ``@no_grad()``, ``@no_grad``) runs ops without recording a graph."""

    mode = False


class enable_grad(_FixedGradMode):
    """``with enable_grad():`` (or ``@enable_grad()``) records a graph even inside ``no_grad``."""

    mode = True


class set_grad_enabled(_GradMode):
    """Set grad mode on or off, as torch's: called, it sets the mode at once; as a context
    manager it also restores the previous mode on exit; as a decorator it sets the mode
    only around each call."""

    def __init__(self, mode: bool):
        global _grad_enabled
        super().__init__(mode)
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __enter__(self):
        return self  # the constructor has set the mode; __exit__ restores the previous one

    def __call__(self, func):
        global _grad_enabled
        _grad_enabled = self.prev  # as a decorator the mode applies per call, not from now on
        return super().__call__(func)


_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or to read saved values after they "
    "were freed). The saved arrays of a graph are freed by .backward() and minigrad.grad() "
    "unless you pass retain_graph=True (or create_graph=True) to the first call."
)
_NO_EDGE = (None, 0)
_NOTHING_SAVED = MappingProxyType({})
# attributes the engine sets on every node: an op parameter of one of these names would be
# overwritten (``backend``, ``dtype``) or would hide the engine's value
_ENGINE_ATTRIBUTES = frozenset({
    "backend", "dtype", "recording", "needs_input_grad", "next_functions", "output_shapes",
    "backward_pass",
})


class Function:
    """Base class of every differentiable op, and the node recording it. See the module docstring.

    A recorded node has ``next_functions``, ``needs_input_grad``, ``output_shapes`` (one shape
    per output) and ``backward_pass``: 0 when recorded by forward code, k + 1 when recorded by a
    ``create_graph=True`` walk whose deepest node is of pass k. The nodes the WGAN-GP penalty's
    ``grad`` adds have 1; differentiating that gradient again (a third order check) adds 2.
    """

    # an unrecorded node's values, kept on the class so that apply writes only what differs
    recording: bool = False
    needs_input_grad: tuple[bool, ...] = ()
    next_functions: tuple = ()
    output_shapes: tuple = ()
    backward_pass: int = 0
    _output_dtypes: tuple = ()
    _saved_indices: tuple = ()
    _saved_inputs = _NOTHING_SAVED
    _saved_output = None
    _output_version: list | None = None  # the saved output's version counter (see save_output)
    _freed = False
    _parameters: dict[str, bool] = {}  # name -> whether it has a default; see __init_subclass__
    _parameter_names: frozenset = frozenset()

    def __init_subclass__(cls, **kwargs):
        """Collect the parameters the class declares (its annotations) with its parents'."""
        super().__init_subclass__(**kwargs)
        declared = inspect.get_annotations(cls)
        clash = sorted(name for name in declared if name in _ENGINE_ATTRIBUTES or name in vars(Function))
        if clash:
            raise TypeError(
                f"{cls.__name__} declares the parameter {clash[0]!r}, a name the engine uses on "
                f"every node ({', '.join(sorted(_ENGINE_ATTRIBUTES))}, and Function's methods); "
                "rename the parameter"
            )
        cls._parameters = {**cls._parameters, **{name: hasattr(cls, name) for name in declared}}
        cls._parameter_names = frozenset(cls._parameters)

    def __init__(self, **params):
        names = self._parameter_names
        # the fast test passes when every declared parameter is given and nothing else
        if len(params) != len(names) or not names.issuperset(params):
            _check_parameters(type(self), params)
        if params:
            self.__dict__.update(params)

    @classmethod
    def _new(cls, params: dict) -> Function:
        """``cls(**params)``; an op that declares no parameters is made without an
        ``__init__`` call (ops declare their parameters, they never define ``__init__``)."""
        if params or cls._parameter_names:
            return cls(**params)
        return object.__new__(cls)

    # ----- saving, used inside forward -------------------------------------------------
    def save_inputs(self, *indices: int | None) -> None:
        """Keep input tensors ``indices`` for backward (``None`` entries are ignored), each
        with its version: ``saved_input`` raises if it was changed in place since."""
        if self.recording:
            self._saved_indices += indices

    def save_output(self) -> None:
        """Keep the output for backward. Only its array is held (a tensor would point
        back at this node: a reference cycle); ``self.output`` rebuilds the tensor."""
        if self.recording:
            self._saved_output = True  # apply replaces the mark by the output array

    def saved_input(self, i: int) -> Tensor:
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        tensor, version = self._saved_inputs[i]
        if tensor._version != version:
            raise RuntimeError(_modified_message(tensor, f"input {i} of {type(self).__name__}", version))
        return tensor

    @property
    def output(self) -> Tensor:
        """The output as a tensor of this node's graph, so backward can differentiate it."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        if self._saved_output is None:
            raise RuntimeError(f"{type(self).__name__}: forward did not call save_output()")
        out = Tensor._make(self._saved_output, True, self, 0)
        out._version_counter = self._output_version
        if out._version != 0:
            raise RuntimeError(_modified_message(out, f"output 0 of {type(self).__name__}", 0))
        return out

    def release(self) -> None:
        """Free what forward saved; the node stays in the graph as an edge."""
        self._freed = True
        self._saved_inputs = _NOTHING_SAVED
        self._saved_output = None
        self.release_saved()

    def release_saved(self) -> None:
        """Ops that keep raw arrays as attributes drop them here."""

    # ----- the op interface ------------------------------------------------------------
    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{type(self).__name__} is not differentiable")

    backward_arrays = None  # an op's backward on raw arrays (see the module docstring)

    @property
    def xp(self):
        return self.backend.xp

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on tensors (scalars and arrays are taken as constants) and record it."""
        tensors, backend, dtype = _wrap_inputs(cls.__name__, inputs)
        fn = cls._new(params)
        fn.backend, fn.dtype = backend, dtype
        # the rule of is_recorded(), inlined
        needs = tuple([t.requires_grad for t in tensors]) if _grad_enabled else None
        recording = needs is not None and True in needs
        if recording:
            fn.needs_input_grad, fn.recording = needs, True
        else:
            fn.needs_input_grad = (False,) * len(tensors)
        try:
            raw = fn.forward(*[t.array for t in tensors])
        except ValueError as exc:
            if "could not be broadcast" not in str(exc):
                raise
            shapes = " and ".join(str(t.shape) for t in tensors)
            raise ValueError(f"{cls.__name__}: incompatible shapes {shapes} ({exc})") from None
        if recording:
            return fn._record(tensors, raw)
        if isinstance(raw, tuple):
            return tuple([Tensor._make(a) for a in raw])
        return Tensor._make(raw)

    def _record(self, tensors, raw):
        """Link the node into the graph and wrap its output array(s) ``raw`` in tensors of it."""
        self.next_functions = tuple([
            _NO_EDGE if not t.requires_grad else
            (t.grad_fn, t._output_nr) if t.grad_fn is not None else t._edge()  # _edge inlined
            for t in tensors])
        if _backward_pass:
            self.backward_pass = _backward_pass
        if self._saved_indices:
            self._saved_inputs = {i: (tensors[i], tensors[i]._version)
                                  for i in self._saved_indices if i is not None}
        if isinstance(raw, tuple):
            return self._record_outputs(raw)
        # one output, the common case, without _record_outputs' loops
        self.output_shapes, self._output_dtypes = (raw.shape,), (raw.dtype,)
        out = Tensor._make(raw, True, self, 0)
        if self._saved_output is True:
            self._keep_output(out)
        return out

    def _record_outputs(self, arrays: tuple) -> tuple:
        self.output_shapes = tuple([a.shape for a in arrays])
        self._output_dtypes = tuple([a.dtype for a in arrays])
        outs = tuple([Tensor._make(a, True, self, i) for i, a in enumerate(arrays)])
        if self._saved_output is True:
            self._keep_output(outs[0])
        return outs

    def _keep_output(self, out: Tensor) -> None:
        """Hold ``out``'s array for ``self.output``, and its version counter, so that a change
        in place to the output (or to a detached alias of it) is caught at backward."""
        self._saved_output = out.array
        self._output_version = out._shared_version_counter()

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _modified_message(tensor: Tensor, which: str, expected: int) -> str:
    shape = list(tensor.shape)
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{tensor.dtype} tensor of shape {shape}], which is {which}, is at version "
        f"{tensor._version}; expected version {expected} instead. Hint: compute it again after "
        "the in-place change, or change a .clone() of it."
    )


def _check_parameters(cls, params) -> None:
    """Raise a TypeError naming ``cls`` if ``params`` has an unknown or lacks a required one."""
    declared = ", ".join(cls._parameters) or "none"
    unknown = [name for name in params if name not in cls._parameters]
    if unknown:
        raise TypeError(f"{cls.__name__} got an unexpected parameter {unknown[0]!r} "
                        f"(its parameters: {declared})")
    missing = [name for name, has_default in cls._parameters.items()
               if not has_default and name not in params]
    if missing:
        raise TypeError(f"{cls.__name__} is missing the parameter {missing[0]!r} "
                        f"(its parameters: {declared})")


class AccumulateGrad(Function):
    """The node of a leaf tensor that requires grad (``variable``): its backward adds the
    incoming gradient into ``variable.grad``. A leaf has one while any graph uses it
    (``Tensor._edge``); its ``grad_fn`` stays None, as in PyTorch."""

    def __init__(self, variable: Tensor):
        array = variable.array  # one read of each, not the tensor's properties (a hot path)
        self.variable = variable
        self.backend, self.dtype = backend_of(array), array.dtype
        self.output_shapes, self._output_dtypes = (array.shape,), (array.dtype,)

    def backward(self, grad):
        leaf = self.variable
        if grad.shape != leaf.shape:
            raise RuntimeError(f"gradient of shape {grad.shape} for a leaf of shape {leaf.shape}")
        if leaf.grad is not None:
            leaf.grad = leaf.grad + grad  # a new array
        elif not _grad_enabled:  # create_graph=False: .grad carries no graph
            leaf.grad = _owned(grad)
        else:
            leaf.grad = grad
        return ()


def _memory_of(array) -> int:
    return id(array if array.base is None else array.base)


def _owned(grad: Tensor) -> Tensor:
    """``grad`` detached, on memory of its own: copied if this walk already handed out its
    memory (see ``_arrays_handed_out``). A view of a fresh gradient (a Linear weight's, the
    transpose of a matmul's output) is kept without a copy."""
    array = grad.array
    if _arrays_handed_out is not None:
        if _memory_of(array) in _arrays_handed_out:
            array = array.copy()
        _arrays_handed_out.add(_memory_of(array))
    return Tensor._leaf(array)


def zero_grad(tensors: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Clear the ``.grad`` of ``tensors`` (Module.zero_grad, Optimizer.zero_grad).

    ``set_to_none=False`` gives fresh zero arrays instead of zeroing in place: a ``.grad``
    array may be shared with other tensors of the graph that produced it.
    """
    for t in tensors:
        if t.grad is not None:
            t.grad = None if set_to_none else Tensor._leaf(t._backend.xp.zeros_like(t.array))


# ----- the graph walk ----------------------------------------------------------------------
def _topological_order(root_nodes) -> list:
    """Nodes reachable from ``root_nodes``, consumers before producers."""
    order, seen = [], set()
    for root in root_nodes:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.next_functions))]
        while stack:
            node, producers = stack[-1]
            for producer, _ in producers:
                if producer is not None and producer not in seen:
                    seen.add(producer)
                    stack.append((producer, iter(producer.next_functions)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _leading_to(order: list, targets: set) -> list:
    """The nodes of ``order`` with a path to an edge in ``targets``, in the same order."""
    wanted = set()
    for node in reversed(order):  # producers first, so a node's producers are decided
        if any(edge in targets or edge[0] in wanted for edge in node.next_functions):
            wanted.add(node)
    return [node for node in order if node in wanted]


def _output_grads(node: Function, buffers: dict, targets: set) -> list:
    """The gradients of ``node``'s outputs (zeros where none arrived), taken from
    ``buffers``; a target's stays there as the answer (a non-leaf input of ``grad``)."""
    grads = []
    for i, (shape, dtype) in enumerate(zip(node.output_shapes, node._output_dtypes)):
        edge = (node, i)
        g = buffers.get(edge) if edge in targets else buffers.pop(edge, None)
        grads.append(g if g is not None else Tensor._leaf(node.backend.xp.zeros(shape, dtype)))
    return grads


def _run_node(node: Function, grads: list, wanted: set, targets: set, create_graph: bool) -> tuple:
    """Call ``node.backward`` (or, building no graph, its ``backward_arrays`` where it has
    one), telling it which input gradients lead somewhere wanted."""
    node.needs_input_grad = tuple([e[0] in wanted or e in targets for e in node.next_functions])
    if create_graph or node.backward_arrays is None:
        input_grads = node.backward(*grads)
    else:
        arrays = node.backward_arrays(*[g.array for g in grads])
        if not isinstance(arrays, tuple):
            arrays = (arrays,)
        input_grads = tuple([None if a is None else Tensor._make(a) for a in arrays])
    if not isinstance(input_grads, tuple):
        input_grads = (input_grads,)
    if len(input_grads) != len(node.next_functions):
        raise RuntimeError(f"{type(node).__name__}.backward returned {len(input_grads)} "
                           f"gradients for {len(node.next_functions)} inputs")
    return input_grads


def _walk(order: list, buffers: dict, targets: set, retain_graph: bool, create_graph: bool):
    """Run the backward of each node of ``order``, summing each gradient into ``buffers``
    under the edge (node, output_index) that receives it."""
    global _backward_pass, _arrays_handed_out
    wanted = set(order)
    outer, outer_arrays = _backward_pass, _arrays_handed_out
    if create_graph:
        _backward_pass = 1 + max((node.backward_pass for node in order), default=0)
    _arrays_handed_out = {_memory_of(g.array) for g in buffers.values()}  # the root gradients
    try:
        with _GradMode(create_graph):
            for node in order:
                grads = _output_grads(node, buffers, targets)
                input_grads = _run_node(node, grads, wanted, targets, create_graph)
                for edge, want, g in zip(node.next_functions, node.needs_input_grad, input_grads):
                    if not want or g is None:
                        continue
                    if edge not in buffers:
                        buffers[edge] = g
                    elif create_graph:
                        buffers[edge] = buffers[edge] + g
                    else:  # no graph to record: the sum of the arrays, as Add computes it
                        buffers[edge] = Tensor._make(buffers[edge].array + g.array)
                if not retain_graph:
                    node.release()
    finally:
        _backward_pass, _arrays_handed_out = outer, outer_arrays


def run_backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor],
    inputs: Sequence[Tensor] | None,
    retain_graph: bool,
    create_graph: bool,
) -> list | None:
    """Propagate ``grad_outputs`` from ``outputs`` back through the graph.

    With ``inputs=None`` (``Tensor.backward``) every node reachable from the outputs runs,
    and the leaves' AccumulateGrad nodes add into their ``.grad``. Otherwise
    (``minigrad.grad``) only the nodes with a path to an input run, and the gradients
    arriving at the inputs are returned (``None`` where none arrives); no ``.grad`` is touched.
    """
    input_edges = [] if inputs is None else [t._edge() for t in inputs]
    targets = set(input_edges)
    buffers: dict = {}
    root_edges = [out._edge() for out in outputs]
    for edge, g in zip(root_edges, grad_outputs):
        buffers[edge] = g if edge not in buffers else buffers[edge] + g
    order = _topological_order(node for node, _ in root_edges)
    if inputs is not None:
        order = _leading_to(order, targets)
    _walk(order, buffers, targets, retain_graph, create_graph)
    return None if inputs is None else [buffers.get(edge) for edge in input_edges]


def _as_grad_outputs(outputs, grad_outputs, caller):
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
            g = Tensor._leaf(out._backend.asarray(g, dtype=out.dtype))
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
    only_inputs: bool = True,
    allow_unused: bool = False,
):
    """Gradients of ``outputs`` with respect to ``inputs`` (torch.autograd.grad's contract).

    Returns a tuple with one tensor per input. With ``create_graph=True`` the
    returned gradients are themselves differentiable (this is how the WGAN-GP
    gradient penalty is trained). ``.grad`` attributes are never touched.
    ``only_inputs`` is accepted and ignored, as in torch, where it is deprecated.
    """
    if not only_inputs:
        warnings.warn("grad: only_inputs is deprecated and ignored (only the inputs' gradients "
                      "are computed, as with only_inputs=True)", stacklevel=2)
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


def Variable(tensor: Tensor, requires_grad: bool = False) -> Tensor:  # noqa: N802  (torch's name)
    """torch.autograd.Variable, deprecated since torch 0.4: the tensor itself, set to require
    grad if ``requires_grad``. Old training scripts wrap every input in it."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Variable: expected a Tensor, got {type(tensor).__name__}")
    return tensor.requires_grad_(True) if requires_grad else tensor


# tensor.py imports this module at its top, so its names are taken once both are defined
from .backends import backend_of  # noqa: E402
from .tensor import Tensor, _wrap_inputs, ones_like  # noqa: E402
