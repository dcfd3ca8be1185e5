"""Peak activation memory by tensor liveness over a topological order.

Method (batch 1, weights excluded):

1. Order the non-constant nodes topologically: step 0 … S-1.
2. Each activation tensor is *born* at the step of the node that produces it (graph inputs:
   step 0) and *dies* after the last step that reads it (graph outputs: the last step; a
   tensor nobody reads dies at its birth step).
3. While a node runs, its inputs and outputs are both resident, so the memory at step i is the
   sum of the sizes of the tensors with ``birth <= i <= death``.
4. The peak is the maximum over steps. This is what a runtime with a perfect tensor-reuse
   allocator needs; real arenas add fragmentation, which targets account for as overhead.
"""

from __future__ import annotations

from dataclasses import dataclass

import onnx

from edgekit.analysis._graph import TensorInfo


@dataclass(frozen=True)
class LivenessPeak:
    """The peak of resident activation bytes and the node at which it occurs."""

    peak_bytes: int
    peak_node: str
    per_step_bytes: tuple[int, ...]


def activation_peak(
    steps: list[onnx.NodeProto],
    graph_inputs: list[str],
    graph_outputs: list[str],
    infos: dict[str, TensorInfo],
) -> LivenessPeak:
    """Compute the liveness peak of the activations of ``steps`` (constants already removed)."""
    if not steps:
        return LivenessPeak(0, "", ())
    last = len(steps) - 1
    birth = dict.fromkeys(graph_inputs, 0)
    death: dict[str, int] = dict.fromkeys(graph_inputs, 0)
    for step, node in enumerate(steps):
        for name in node.input:
            if name in birth:
                death[name] = step
        for name in node.output:
            if name:
                birth[name] = step
                death[name] = step
    for name in graph_outputs:
        if name in birth:
            death[name] = last
    delta = [0] * (len(steps) + 1)
    for name, start in birth.items():
        size = infos[name].nbytes if name in infos else 0
        delta[start] += size
        delta[death[name] + 1] -= size
    per_step, running = [], 0
    for step in range(len(steps)):
        running += delta[step]
        per_step.append(running)
    peak_step = max(range(len(steps)), key=per_step.__getitem__)
    node = steps[peak_step]
    return LivenessPeak(per_step[peak_step], node.name or f"{node.op_type}#{peak_step}", tuple(per_step))
