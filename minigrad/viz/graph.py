"""The graph behind a tensor, read from the autograd nodes into plain data.

What this package reads of the autograd internals is in ``node_inputs``,
``node_output_shapes`` and ``node_backward_pass``: every recorded node is a ``Function``
with ``next_functions`` (one ``(producer, output_index)`` per input, ``(None, 0)`` for
one that needs no gradient), ``output_shapes`` and ``backward_pass``; a leaf that
requires grad is received by an ``AccumulateGrad`` node holding it as ``variable``.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from ..autograd import AccumulateGrad
from ..nn.module import Module, Parameter
from ..tensor import Tensor

OP, PARAM, LEAF, OUTPUT = "op", "param", "leaf", "output"


# ----- the adapter: the only code that reads autograd nodes ---------------------------------
def node_inputs(node) -> list:
    """One entry per input of ``node``: the producing ``Function``, the leaf ``Tensor``
    (a tensor that requires grad and has no grad_fn), or ``None`` for a constant."""
    return [producer.variable if isinstance(producer, AccumulateGrad) else producer
            for producer, _ in node.next_functions]


def node_output_shapes(node) -> tuple[tuple[int, ...], ...]:
    """The shapes of the node's outputs."""
    return tuple(tuple(shape) for shape in node.output_shapes)


def node_backward_pass(node) -> int:
    """0 for a node recorded by forward code; k + 1 for one recorded by a
    ``create_graph=True`` backward whose deepest node was of pass k."""
    return node.backward_pass


# ----- the graph as data ----------------------------------------------------------------------
@dataclass
class GraphNode:
    """One drawn node: an op, a leaf tensor (a named parameter or not), an output, or
    (after ``collapse``) a module box standing for ``op_count`` ops."""

    key: Hashable
    kind: str
    name: str
    shape: tuple
    backward_pass: int = 0
    module: str | None = None
    op_count: int = 1


@dataclass
class Graph:
    """Nodes by key in walk order, and one edge (producer key, consumer key) per input
    that requires grad (an op that reads the same tensor twice has two edges).

    A key is the ``id()`` of the autograd node, or of the leaf tensor (so
    ``id(weight) in graph.nodes`` asks whether a weight is in the graph); outputs have
    negative keys, module boxes (after ``collapse``) string keys."""

    nodes: dict[Hashable, GraphNode] = field(default_factory=dict)
    edges: list[tuple[Hashable, Hashable]] = field(default_factory=list)

    def count(self, kind: str | None = None, backward_pass: int | None = None) -> int:
        """How many nodes of ``kind`` (all if None) and ``backward_pass`` (any if None)."""
        return sum(
            (kind is None or n.kind == kind)
            and (backward_pass is None or n.backward_pass == backward_pass)
            for n in self.nodes.values()
        )

    def op_names(self, backward_pass: int | None = None) -> list[str]:
        """The op names, in walk order, of one backward pass (every pass if None)."""
        return [n.name for n in self.nodes.values() if n.kind == OP
                and (backward_pass is None or n.backward_pass == backward_pass)]


def _as_named_outputs(outputs) -> dict[str, Tensor]:
    if isinstance(outputs, Tensor):
        return {"output": outputs}
    if isinstance(outputs, Mapping):
        named = dict(outputs)
    elif isinstance(outputs, Sequence):
        named = {f"output {i}": t for i, t in enumerate(outputs)}
    else:
        raise TypeError(f"viz: outputs must be a Tensor, a sequence or a dict of them, "
                        f"got {type(outputs).__name__}")
    for name, t in named.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"viz: output {name!r} is a {type(t).__name__}, not a Tensor")
    return named


def _as_param_names(params) -> dict[int, str]:
    if params is None:
        return {}
    if isinstance(params, Module):
        params = dict(params.named_parameters())
    if not isinstance(params, Mapping):
        raise TypeError("viz: params must be a Module or a dict name -> Tensor "
                        f"(e.g. dict(module.named_parameters())), got {type(params).__name__}")
    return {id(t): name for name, t in params.items()}


def _leaf_node(leaf: Tensor, names: dict[int, str], trace) -> GraphNode:
    name = names.get(id(leaf))
    module = trace.module_of_parameter(leaf) if trace is not None else None
    kind = PARAM if isinstance(leaf, Parameter) or name is not None else LEAF
    fallback = "parameter" if isinstance(leaf, Parameter) else "tensor"
    return GraphNode(id(leaf), kind, name or fallback, leaf.shape, module=module)


def build_graph(outputs, params=None, trace=None) -> Graph:
    """The graph behind ``outputs`` (a Tensor, a list, or a dict name -> Tensor).

    ``params``: a Module or a dict name -> Tensor naming leaves (parameters or inputs);
    defaults to the parameters of ``trace``'s module. ``trace``: a ``viz.trace`` that
    was active while the graph was built; it gives each op node its module.
    """
    named_outputs = _as_named_outputs(outputs)
    if params is None and trace is not None and trace.module is not None:
        params = trace.module
    names = _as_param_names(params)
    graph = Graph()
    stack = []
    for out_name, out in named_outputs.items():
        out_key = -1 - len(graph.nodes)  # negative: never an id()
        graph.nodes[out_key] = GraphNode(out_key, OUTPUT, out_name, out.shape)
        source = out.grad_fn if out.grad_fn is not None else (out if out.requires_grad else None)
        if source is not None:
            stack.append(source)
            graph.edges.append((id(source), out_key))
    while stack:
        item = stack.pop()
        if id(item) in graph.nodes:
            continue
        if isinstance(item, Tensor):
            graph.nodes[id(item)] = _leaf_node(item, names, trace)
            continue
        graph.nodes[id(item)] = _op_node(item, trace)
        for producer in node_inputs(item):
            if producer is not None:
                graph.edges.append((id(producer), id(item)))
                stack.append(producer)
    return graph


def _op_node(node, trace) -> GraphNode:
    shapes = node_output_shapes(node)
    record = trace.record_of(node) if trace is not None else None
    return GraphNode(
        id(node), OP, type(node).__name__, shapes[0] if len(shapes) == 1 else shapes,
        backward_pass=node_backward_pass(node),
        module=record.module if record is not None else None,
    )
