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

from .cost import PassCost, cost_by_pass, product_flops
from .graph import Graph, GraphNode, build_graph
from .render import DOT_MISSING, collapse, dot_available, make_dot, render, save, to_digraph
from .trace import trace

__all__ = [
    "DOT_MISSING", "Graph", "GraphNode", "PassCost", "build_graph", "collapse", "cost_by_pass",
    "dot_available", "make_dot", "product_flops", "render", "save", "to_digraph", "trace",
]
