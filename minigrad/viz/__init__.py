"""Draw the graph behind a tensor: forward ops, what ``create_graph=True`` added, and the
parameters both reach.

    from minigrad import viz
    with viz.trace(critic) as t:                      # notes each node's module
        scores = critic(x_hat)
        (g,) = minigrad.grad(scores.sum(), x_hat, create_graph=True)
        penalty = ((g.norm(dim=1) - 1) ** 2).mean()
    viz.render({"penalty": penalty}, "penalty.svg", trace=t, depth=1)

Op nodes show their name and output shape; leaves are named after the module's
parameters (or ``params=``); nodes a ``create_graph=True`` backward recorded are
coloured by backward pass, with a legend. ``depth=`` draws every module more than
``depth`` levels below the traced one as one box per pass. ``.dot`` needs only the
``graphviz`` Python package; ``.svg`` and ``.png`` also need Graphviz's ``dot``
program. ``python -m minigrad.viz --list`` names the worked examples.
"""
from __future__ import annotations

from pathlib import Path

from .cost import PassCost, cost_by_pass, product_flops
from .graph import Graph, GraphNode, build_graph
from .render import DOT_MISSING, collapse, dot_available, save, to_digraph
from .trace import trace


def make_dot(outputs, params=None, trace=None, depth: int | None = None,
             title: str | None = None):
    """A ``graphviz.Digraph`` of the graph behind ``outputs`` (a Tensor, a list or a dict
    name -> Tensor). ``params``: Module or dict name -> Tensor naming leaves. ``depth``
    needs ``trace`` (a ``viz.trace`` over a module) to know which module made each node."""
    graph = build_graph(outputs, params=params, trace=trace)
    if depth is not None:
        if trace is None or trace.module is None:
            raise ValueError("viz: depth= needs the modules: compute the outputs inside "
                             "`with viz.trace(module) as t:` and pass trace=t")
        types = {path: type(m).__name__ for path, m in trace.modules.items()}
        graph = collapse(graph, depth, types)
    return to_digraph(graph, title)


def render(outputs, path, params=None, trace=None, depth: int | None = None,
           title: str | None = None) -> Path:
    """Write the graph behind ``outputs`` to ``path`` (.dot, .svg or .png); see ``make_dot``."""
    return save(make_dot(outputs, params, trace, depth, title), path)


__all__ = [
    "DOT_MISSING", "Graph", "GraphNode", "PassCost", "build_graph", "collapse", "cost_by_pass",
    "dot_available", "make_dot", "product_flops", "render", "save", "to_digraph", "trace",
]
