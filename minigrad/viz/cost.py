"""What a graph costs: nodes and conv/matmul FLOPs per backward pass.

Only the products are counted (one multiply-add = 2 FLOPs): they dominate a conv
critic, and their cost follows from shapes alone. The shapes of the inputs come from
the ``viz.trace`` the graph was built under.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .graph import OP, build_graph, node_backward_pass, node_inputs, node_output_shapes


@dataclass
class PassCost:
    """One backward pass of a graph (0: the forward): its op nodes and product FLOPs."""

    nodes: int = 0
    flops: int = 0
    # FLOPs a backward through these nodes would spend: one product per operand needing a grad
    backward_flops: int = 0


def product_flops(op_name: str, input_shapes: tuple, output_shape: tuple) -> int:
    """2 x multiply-adds of a MatMul or a member of the conv trio; 0 for any other op.

    MatMul a (..., m, k) @ b (..., k, n); Conv2d x (N,C,H,W), w (O,C,kH,kW) -> (N,O,Ho,Wo);
    ConvTranspose2d g (N,O,Ho,Wo), w -> (N,C,H,W); Conv2dWeightGrad x, g -> (O,C,kH,kW).
    All three convolutions do N*O*Ho*Wo*C*kH*kW multiply-adds.
    """
    if op_name == "MatMul":
        return 2 * math.prod(output_shape) * input_shapes[0][-1]
    if op_name == "Conv2d":
        return 2 * math.prod(output_shape) * math.prod(input_shapes[1][1:])
    if op_name == "ConvTranspose2d":
        return 2 * math.prod(input_shapes[0]) * math.prod(input_shapes[1][1:])
    if op_name == "Conv2dWeightGrad":
        return 2 * math.prod(input_shapes[1]) * math.prod(output_shape[1:])
    return 0


def cost_by_pass(trace, outputs=None) -> dict[int, PassCost]:
    """Per backward pass (0 = forward), the op nodes ``trace`` noted and their FLOPs.

    ``outputs``: count only the nodes behind them (what a backward from them walks);
    None counts every node recorded inside the trace (what was computed)."""
    if outputs is None:
        nodes = [record.node for record in trace.records]
    else:
        nodes = [_recorded(trace, key) for key, n in build_graph(outputs).nodes.items()
                 if n.kind == OP]
    costs: dict[int, PassCost] = {}
    for node in nodes:
        record = trace.record_of(node)
        shapes = node_output_shapes(node)
        flops = product_flops(type(node).__name__, record.input_shapes, shapes[0])
        cost = costs.setdefault(node_backward_pass(node), PassCost())
        cost.nodes += 1
        cost.flops += flops
        # a product's gradient is one product per operand (a, b / x, w) that needs it;
        # a bias's is a sum, not counted
        cost.backward_flops += flops * sum(p is not None for p in node_inputs(node)[:2])
    return dict(sorted(costs.items()))


def _recorded(trace, key):
    record = trace.record_with_id(key)
    if record is None:
        raise ValueError("viz: a node behind the outputs was recorded outside the trace; "
                         "run the forward and the backward inside `with viz.trace(...)`")
    return record.node
