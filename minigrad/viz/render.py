"""Drawing a ``Graph``: collapsing modules to a depth, Graphviz DOT, SVG and PNG files."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from .graph import LEAF, OP, OUTPUT, PARAM, Graph, GraphNode, build_graph

try:
    import graphviz
except ImportError as exc:  # pragma: no cover - graphviz is a declared dependency
    raise ImportError("minigrad.viz needs the graphviz Python package: "
                      "pip install graphviz (or pip install -e '.[viz]')") from exc

MODULE = "module"
FORMATS = ("dot", "gv", "svg", "png")
DOT_MISSING = (
    "rendering {path} needs Graphviz's `dot` program, which is not on PATH. Install it with "
    "`sudo apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or "
    "`conda install graphviz`. A .dot file can be written without it (e.g. --out graph.dot)."
)
# fill colours: forward ops, then one per create_graph backward pass (the last repeats)
PASS_COLOURS = ("#dde6f3", "#f8c27e", "#d9b3ec", "#f2a0a0")
KIND_COLOURS = {PARAM: "#bfe5b4", LEAF: "#e6e6e6", OUTPUT: "#fff1a0"}
# a create_graph walk records pass 1 + the deepest pass among the nodes it walks
PASS_NAMES = ("forward op", "create_graph backward op (pass 1)",
              "backward through pass 1 (pass 2)", "backward through pass 2+ (pass 3+)")
LEAF_NAMES = ((PARAM, "named parameter / input"), (LEAF, "unnamed leaf"), (OUTPUT, "output"))


def dot_available() -> bool:
    """Whether Graphviz's ``dot`` binary is on PATH (needed for SVG and PNG, not for DOT)."""
    return shutil.which("dot") is not None


def _pass_colour(backward_pass: int) -> str:
    return PASS_COLOURS[min(backward_pass, len(PASS_COLOURS) - 1)]


def _group_of(node: GraphNode, depth: int) -> str | None:
    """The module path (depth + 1 components) that ``node`` collapses into, if any."""
    if node.kind != OP or not node.module:
        return None
    parts = node.module.split(".")
    return ".".join(parts[: depth + 1]) if len(parts) > depth else None


def collapse(graph: Graph, depth: int, module_types: dict[str, str]) -> Graph:
    """``graph`` with every module more than ``depth`` levels below the root drawn as one
    box per backward pass (its forward ops in one, what each backward recorded in another).
    Parameters stay visible; edges between boxes are drawn once."""
    if not isinstance(depth, int) or depth < 0:
        raise ValueError(f"viz: depth must be an int >= 0, got {depth!r}")
    collapsed, key_of = Graph(), {}
    for node in graph.nodes.values():
        path = _group_of(node, depth)
        if path is None:
            collapsed.nodes[node.key] = node
            key_of[node.key] = node.key
            continue
        key = f"module:{path}:{node.backward_pass}"
        key_of[node.key] = key
        box = collapsed.nodes.get(key)
        if box is None:
            box = collapsed.nodes[key] = GraphNode(
                key, MODULE, f"{path}: {module_types.get(path, '?')}", (),
                node.backward_pass, path, op_count=0)
        box.op_count += 1
    seen = set()
    for src, dst in graph.edges:
        edge = (key_of[src], key_of[dst])
        if edge[0] != edge[1] and edge not in seen:
            seen.add(edge)
            collapsed.edges.append(edge)
    return collapsed


def _label(node: GraphNode) -> str:
    if node.kind == MODULE:
        stage = "forward" if node.backward_pass == 0 else f"backward pass {node.backward_pass}"
        plural = "s" if node.op_count != 1 else ""
        return f"{node.name}\n{stage}: {node.op_count} op{plural}"
    if node.shape and isinstance(node.shape[0], tuple):
        shape = " ".join(str(s) for s in node.shape)
    else:
        shape = str(tuple(node.shape))
    return f"{node.name}\n{shape}"


def _attributes(node: GraphNode) -> dict[str, str]:
    if node.kind in (OP, MODULE):
        return {"style": "filled", "shape": "box3d" if node.kind == MODULE else "box",
                "fillcolor": _pass_colour(node.backward_pass)}
    return {"style": "filled", "shape": "ellipse", "fillcolor": KIND_COLOURS[node.kind]}


def _legend_entries(graph: Graph) -> list[tuple[str, str, str]]:
    """(text, fill colour, shape) for each kind of node ``graph`` draws."""
    kinds = {n.kind for n in graph.nodes.values()}
    passes = sorted({min(n.backward_pass, len(PASS_NAMES) - 1) for n in graph.nodes.values()
                     if n.kind in (OP, MODULE)})
    entries = [(PASS_NAMES[p], _pass_colour(p), "box") for p in passes]
    if MODULE in kinds:
        entries.append(("one module's ops of one pass (depth=)", "#ffffff", "box3d"))
    return entries + [(text, KIND_COLOURS[kind], "ellipse") for kind, text in LEAF_NAMES
                      if kind in kinds]


def _legend(dot: graphviz.Digraph, graph: Graph) -> None:
    entries = _legend_entries(graph)
    with dot.subgraph(name="cluster_legend") as legend:
        legend.attr(label="legend", fontsize="10", style="rounded", color="#999999")
        for i, (text, colour, shape) in enumerate(entries):
            legend.node(f"legend{i}", text, shape=shape, style="filled", fillcolor=colour,
                        fontsize="9")
            if i:  # stacked in order
                legend.edge(f"legend{i - 1}", f"legend{i}", style="invis")


def to_digraph(graph: Graph, title: str | None = None) -> graphviz.Digraph:
    """A ``graphviz.Digraph`` of ``graph``: producers above consumers, one colour per
    backward pass, a legend."""
    dot = graphviz.Digraph("minigrad", graph_attr={"rankdir": "TB", "fontname": "Helvetica",
                                       **({"label": title, "labelloc": "t"} if title else {})},
                           node_attr={"fontname": "Helvetica", "fontsize": "10"},
                           edge_attr={"arrowsize": "0.6"})
    ids = {key: f"n{i}" for i, key in enumerate(graph.nodes)}  # keys may hold ':' (a port in DOT)
    for node in graph.nodes.values():
        dot.node(ids[node.key], _label(node), **_attributes(node))
    for src, dst in graph.edges:
        dot.edge(ids[src], ids[dst])
    _legend(dot, graph)
    return dot


def save(dot: graphviz.Digraph, path) -> Path:
    """Write ``dot`` to ``path``; the suffix picks the format (.dot/.gv, .svg, .png).
    Written atomically (temp file, then rename)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"viz: cannot write {path}: the suffix must be one of "
                         f"{', '.join('.' + f for f in FORMATS)}")
    if fmt in ("dot", "gv"):
        data = dot.source.encode()
    else:
        try:
            data = dot.pipe(format=fmt)
        except graphviz.ExecutableNotFound:
            raise RuntimeError(DOT_MISSING.format(path=path)) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


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
