"""What a graph costs: nodes and conv/matmul FLOPs per backward pass.

Only the products are counted (one multiply-add = 2 FLOPs): they dominate a conv
critic, and their cost follows from shapes alone. The shapes of the inputs come from
the ``viz.trace`` the graph was built under.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .graph import OP, build_graph


@dataclass
class PassCost:
    """One backward pass of a graph (0: the forward): its op nodes and product FLOPs."""

    nodes: int = 0
    flops: int = 0
    # FLOPs a backward through these nodes would spend: one product per input that needs a grad
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


def cost_by_pass(outputs, trace) -> dict[int, PassCost]:
    """Per backward pass (0 = forward), the op nodes behind ``outputs`` and their FLOPs.

    ``trace``: the ``viz.trace`` active while ``outputs`` were computed (it holds the
    input shapes)."""
    graph = build_graph(outputs, trace=trace)
    grad_inputs: dict = {}
    for _, consumer in graph.edges:
        grad_inputs[consumer] = grad_inputs.get(consumer, 0) + 1
    costs: dict[int, PassCost] = {}
    for node in graph.nodes.values():
        if node.kind != OP:
            continue
        record = trace.record_with_id(node.key)
        if record is None:
            raise ValueError(f"viz: a {node.name} node was recorded outside the trace; "
                             "run the forward and the backward inside `with viz.trace(...)`")
        flops = product_flops(node.name, record.input_shapes, node.shape)
        cost = costs.setdefault(node.backward_pass, PassCost())
        cost.nodes += 1
        cost.flops += flops
        cost.backward_flops += flops * grad_inputs.get(node.key, 0)
    return dict(sorted(costs.items()))
