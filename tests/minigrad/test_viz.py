"""minigrad.viz: the graph behind a tensor, its backward passes and modules, and its pictures."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, viz
from minigrad.autograd import Function
from minigrad.nn.module import Module
from minigrad.viz import examples
from minigrad.viz.__main__ import main as viz_main
from minigrad.viz.graph import OP, node_inputs, node_output_shapes

needs_dot = pytest.mark.skipif(
    not viz.dot_available(),
    reason="Graphviz's `dot` binary is not installed (apt-get install graphviz): SVG and PNG "
           "rendering are not tested here; DOT output still is")


def in_degrees(graph: viz.Graph) -> Counter:
    degree = Counter(dst for _, dst in graph.edges)
    return Counter((n.backward_pass, n.name, degree[key]) for key, n in graph.nodes.items()
                   if n.kind == OP)


# ----- the gradient-penalty graph, node by node --------------------------------------------
# (pass, op, inputs that require grad) for every op behind the tiny critic's penalty:
PENALTY_OPS = Counter([
    # forward: fc1 = x_hat @ W1^T + b1, tanh; of fc2 only W2^T (its MatMul and bias add are
    # not behind the penalty: g does not depend on fc2's output or bias)
    (0, "Permute", 1), (0, "MatMul", 2), (0, "Add", 2), (0, "Tanh", 1), (0, "Permute", 1),
    # safe_norm(g) = sqrt(sum(g * g) + eps), then mean((norm - 1) ** 2) = sum(.) * (1/N)
    (0, "Mul", 2), (0, "Sum", 1), (0, "Add", 1), (0, "Sqrt", 1),
    (0, "Sub", 1), (0, "PowScalar", 1), (0, "Sum", 1), (0, "Mul", 1),
    # first backward (create_graph): fc2's input-gradient gy @ (W2^T)^T, the seed gy constant
    (1, "Permute", 1), (1, "MatMul", 1),
    # tanh's backward gy * (1 - y * y), y the forward Tanh's output
    (1, "Mul", 2), (1, "Sub", 1), (1, "Mul", 2),
    # fc1's input-gradient gh @ (W1^T)^T
    (1, "Permute", 1), (1, "MatMul", 2),
])


def test_the_penalty_graph_has_exactly_the_nodes_and_edges_of_the_ops_that_build_it():
    drawing = examples.gradient_penalty()
    graph = viz.build_graph(drawing.outputs["penalty"], drawing.params, drawing.trace)
    assert in_degrees(graph) == PENALTY_OPS
    assert graph.count(OP, 0) == 13 and graph.count(OP, 1) == 7 and graph.count(OP, 2) == 0
    leaves = sorted(n.name for n in graph.nodes.values() if n.kind == "param")
    assert leaves == ["fc1.bias", "fc1.weight", "fc2.weight", "x_hat"]  # no fc2.bias: not in g
    assert graph.count("output") == 1
    # one edge per op input that requires grad, plus the output's
    assert len(graph.edges) == sum(k * n for (_, _, k), n in PENALTY_OPS.items()) + 1 == 27
    assert len(graph.nodes) == 20 + 4 + 1


def test_the_penalty_example_draws_the_second_backward_to_the_weight():
    drawing = examples.gradient_penalty()
    graph = viz.build_graph(drawing.outputs, drawing.params, drawing.trace)
    penalty_only = viz.build_graph(drawing.outputs["penalty"], drawing.params, drawing.trace)
    second = {k for k, n in graph.nodes.items() if n.kind == OP} - set(penalty_only.nodes)
    assert second == {k for k, n in graph.nodes.items() if n.backward_pass == 2}
    assert len(second) == graph.count(OP, 2) == 16
    assert graph.nodes[id(drawing.outputs["dP/dfc2.weight"].grad_fn)].backward_pass == 2
    assert drawing.outputs["dP/dfc2.weight"].shape == drawing.params["fc2.weight"].shape


def test_backward_pass_marks_exactly_what_the_create_graph_call_added():
    """The nodes marked pass 1 are the ones that appear in the graph only after the
    grad(create_graph=True) call: checked by diffing the node sets."""
    critic = examples.seeded_tiny_critic(mg.Generator(0))
    x_hat = examples.interpolates(3, mg.Generator(1))
    with viz.trace(critic) as t:
        score = critic(x_hat).sum()
        before = set(viz.build_graph(score).nodes)
        (g,) = mg.grad(score, x_hat, create_graph=True)
    after = viz.build_graph(g, trace=t)
    added = {key for key, n in after.nodes.items() if n.kind == OP} - before
    assert added and added == {key for key, n in after.nodes.items() if n.backward_pass == 1}
    assert all(n.backward_pass == 0 for key, n in after.nodes.items() if key in before)


def test_backward_pass_is_read_from_nodes_and_counts_nested_backwards():
    x = mg.tensor(np.linspace(-1, 1, 4), requires_grad=True)
    with viz.trace() as t:
        (g1,) = mg.grad((x.tanh() ** 2).sum(), x, create_graph=True)
        (g2,) = mg.grad(g1.sum(), x, create_graph=True)
    graph = viz.build_graph(g2, trace=t)
    assert {n.backward_pass for n in graph.nodes.values() if n.kind == OP} == {0, 1, 2}


def test_ops_are_attributed_to_the_module_whose_forward_or_backward_recorded_them():
    critic = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.Tanh()), nn.Linear(3, 1)).double()
    x = mg.randn(2, 2, dtype="float64", requires_grad=True)
    with viz.trace(critic) as t:
        (g,) = mg.grad(critic(x).sum(), x, create_graph=True)
    graph = viz.build_graph(g, trace=t)
    by_module = {(n.module, n.backward_pass) for n in graph.nodes.values() if n.kind == OP}
    assert {("0.0", 0), ("0.1", 0), ("1", 0), ("0.0", 1), ("0.1", 1), ("1", 1)} <= by_module
    tanh = [n for n in graph.nodes.values() if n.name == "Tanh"]
    assert [n.module for n in tanh] == ["0.1"]


def test_depth_collapses_each_module_into_one_box_per_pass():
    critic = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.Tanh()), nn.Linear(3, 1)).double()
    x = mg.randn(2, 2, dtype="float64", requires_grad=True)
    with viz.trace(critic) as t:
        (g,) = mg.grad(critic(x).sum(), x, create_graph=True)
    graph = viz.build_graph(g, trace=t)
    types = {path: type(m).__name__ for path, m in t.modules.items()}
    shallow, deep = viz.collapse(graph, 0, types), viz.collapse(graph, 1, types)
    boxes = lambda g: sorted((n.name, n.backward_pass, n.op_count)
                             for n in g.nodes.values() if n.kind == "module")
    assert [name for name, *_ in boxes(shallow)] == ["0: Sequential", "0: Sequential",
                                                     "1: Linear", "1: Linear"]
    # depth 1: modules two levels down are boxes; "1" is one level down, its ops stay drawn
    assert {name for name, *_ in boxes(deep)} == {"0.0: Linear", "0.1: Tanh"}
    assert {n.module for n in deep.nodes.values() if n.kind == OP} == {"1"}
    for collapsed in (shallow, deep):  # every op is drawn, or counted in exactly one box
        assert sum(c for *_, c in boxes(collapsed)) + collapsed.count(OP) == graph.count(OP)
    for collapsed in (shallow, deep):
        assert all(a != b for a, b in collapsed.edges)
        assert len(set(collapsed.edges)) == len(collapsed.edges)
        assert collapsed.count("param") == graph.count("param")  # weights stay visible
    with pytest.raises(ValueError, match="depth must be an int >= 0"):
        viz.collapse(graph, -1, types)


def test_depth_needs_a_traced_module():
    x = mg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"depth= needs the modules.*viz.trace\(module\)"):
        viz.make_dot((x * x).sum(), depth=1)


def test_leaves_are_named_after_parameters_or_params():
    layer = nn.Linear(2, 1)
    x, bias_free = mg.ones(1, 2, requires_grad=True), mg.ones(1, requires_grad=True)
    out = layer(x).sum() + bias_free.sum()
    names = lambda params: sorted(n.name for n in viz.build_graph(out, params=params).nodes.values()
                                  if n.kind in ("param", "leaf"))
    assert names(layer) == ["bias", "tensor", "tensor", "weight"]
    assert names({**dict(layer.named_parameters()), "x": x}) == ["bias", "tensor", "weight", "x"]
    assert names(None) == ["parameter", "parameter", "tensor", "tensor"]
    with pytest.raises(TypeError, match="params must be a Module or a dict"):
        viz.build_graph(out, params=[layer.weight])
    with pytest.raises(TypeError, match="output 'y' is a ndarray"):
        viz.build_graph({"y": np.ones(2)})


def test_a_leaf_output_and_a_constant_output_are_drawn():
    x = mg.ones(2, requires_grad=True)
    graph = viz.build_graph({"x": x, "c": mg.ones(2)})
    assert graph.count("output") == 2 and graph.count("leaf") == 1 and len(graph.edges) == 1


# ----- the adapter ---------------------------------------------------------------------------
def test_the_adapter_reads_producers_leaves_constants_shapes_and_passes():
    x = mg.ones(2, 3, requires_grad=True)
    y = x.exp()
    z = y * x + mg.ones(2, 3)        # Mul(y, x) then Add(., constant)
    add = z.grad_fn
    (mul,) = [p for p in node_inputs(add) if p is not None]
    assert node_inputs(add)[1] is None
    assert node_inputs(mul) == [y.grad_fn, x]          # x's AccumulateGrad read as x itself
    assert node_output_shapes(add) == ((2, 3),)
    (g,) = mg.grad(z.sum(), x, create_graph=True)
    assert viz.graph.node_backward_pass(add) == 0 and viz.graph.node_backward_pass(g.grad_fn) == 1


# ----- the trace leaves nothing behind -----------------------------------------------------
def test_the_trace_restores_apply_and_module_call_even_after_an_error():
    apply, call = Function.__dict__["apply"], Module.__dict__["__call__"]
    layer = nn.Linear(2, 1)
    with pytest.raises(ZeroDivisionError):
        with viz.trace(layer):
            layer(mg.ones(1, 2)).sum()
            1 / 0
    assert Function.__dict__["apply"] is apply and Module.__dict__["__call__"] is call
    t = viz.trace(layer)
    with t:
        out = layer(mg.ones(1, 2))
        with pytest.raises(RuntimeError, match="not reentrant"):
            t.__enter__()
    assert "backward" not in out.grad_fn.__dict__
    with pytest.raises(TypeError, match="expected a Module"):
        viz.trace("critic")


# ----- FLOPs -------------------------------------------------------------------------------
def test_product_flops_follow_the_shapes():
    assert viz.product_flops("MatMul", ((5, 3), (3, 4)), (5, 4)) == 2 * 5 * 3 * 4
    conv = 2 * (2 * 8 * 4 * 4) * (3 * 5 * 5)  # N*O*Ho*Wo outputs, C*kH*kW each
    assert viz.product_flops("Conv2d", ((2, 3, 8, 8), (8, 3, 5, 5), (8,)), (2, 8, 4, 4)) == conv
    assert viz.product_flops("ConvTranspose2d", ((2, 8, 4, 4), (8, 3, 5, 5)), (2, 3, 8, 8)) == conv
    assert viz.product_flops("Conv2dWeightGrad", ((2, 3, 8, 8), (2, 8, 4, 4)), (8, 3, 5, 5)) == conv
    assert viz.product_flops("Tanh", ((2, 3),), (2, 3)) == 0


def test_cost_by_pass_counts_the_conv_trio():
    drawing = examples.conv_trio()
    cost = viz.cost_by_pass(drawing.trace)
    conv = 2 * (1 * 2 * 3 * 3) * (1 * 3 * 3)
    graph = viz.build_graph(drawing.outputs, trace=drawing.trace)
    names = Counter((n.backward_pass, n.name) for n in graph.nodes.values() if n.kind == OP)
    products = {k: sum(c for (p, name), c in names.items() if p == k and name.startswith("Conv"))
                for k in cost}
    behind = viz.cost_by_pass(drawing.trace, outputs=drawing.outputs)
    assert {k: c.flops for k, c in behind.items()} == {k: conv * n for k, n in products.items()}
    assert cost[0].flops == conv and behind[0].backward_flops == 2 * conv  # x and w need grads
    assert sum(c.nodes for c in cost.values()) >= graph.count(OP)


def test_cost_needs_the_nodes_recorded_inside_the_trace():
    x = mg.ones(2, requires_grad=True)
    y = (x * x).sum()
    with viz.trace() as t:
        z = y * 2.0
    with pytest.raises(ValueError, match="recorded outside the trace"):
        viz.cost_by_pass(t, outputs=z)


# ----- files -------------------------------------------------------------------------------
def test_dot_is_written_without_the_dot_binary_and_svg_says_how_to_install(tmp_path, monkeypatch):
    drawing = examples.gradient_penalty()
    dot = viz.make_dot(drawing.outputs, drawing.params, drawing.trace, title="gp")
    assert "backward through pass 1 (pass 2)" in dot.source
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    source = viz.save(dot, tmp_path / "gp.dot").read_text()
    assert source.startswith("digraph minigrad {") and "fc1.weight" in source
    assert "create_graph backward op (pass 1)" in source and "MatMul" in source
    with pytest.raises(RuntimeError, match=r"needs Graphviz's `dot`.*apt-get install graphviz"):
        viz.save(dot, tmp_path / "gp.svg")
    assert not (tmp_path / "gp.svg").exists()
    with pytest.raises(ValueError, match=r"suffix must be one of \.dot, \.gv, \.svg, \.png"):
        viz.save(dot, tmp_path / "gp.pdf")


@needs_dot
def test_svg_and_png_are_rendered(tmp_path):
    x = mg.ones(2, requires_grad=True)
    assert viz.render((x * x).sum(), tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")
    assert viz.render((x * x).sum(), tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_cli_lists_the_examples(capsys):
    assert viz_main(["--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == ["gradient-penalty", "critic-forward", "conv-trio", "batchnorm-higher-order"]


@pytest.mark.parametrize("name", list(examples.EXAMPLES))
def test_the_cli_writes_every_example_as_dot(name, tmp_path):
    out = tmp_path / f"{name}.dot"
    assert viz_main(["--example", name, "--out", str(out)]) == 0
    assert out.read_text().count("->") >= 5


@needs_dot
def test_the_cli_renders_every_example(tmp_path):
    assert viz_main(["--all", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{name}.svg" for name in examples.EXAMPLES)
    assert viz_main(["--example", "conv-trio", "--out", str(tmp_path / "trio.png")]) == 0


def test_the_cli_rejects_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit):
        viz_main(["--example", "gradient-penalty"])
    assert "--example needs --out" in capsys.readouterr().err
    assert viz_main(["--example", "conv-trio", "--out", str(tmp_path / "x.jpg")]) == 1
    assert "suffix must be one of" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        viz_main(["--example", "no-such-example", "--out", str(tmp_path / "x.svg")])
