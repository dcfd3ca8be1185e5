"""Helpers for passes over torch modules: safe copies, cost counts, the classifier head."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from edgekit.analysis import ANALYZER, GraphAnalysis, analyze_onnx
from edgekit.errors import BadInputError
from edgekit.onnx_io import torch_to_onnx
from edgekit.passes._quiet import silenced_fds

if TYPE_CHECKING:
    import torch

# Fixed seed of the example input used for tracing, so reports are reproducible.
_EXAMPLE_SEED = 0
COUNTER_METHOD = f"{ANALYZER} over the module's ONNX export (batch 1)"


def example_input(shape: tuple[int, ...]) -> torch.Tensor:
    """A seeded random tensor of ``shape`` (batch 1) for tracing."""
    import torch

    generator = torch.Generator().manual_seed(_EXAMPLE_SEED)
    return torch.randn(shape, generator=generator)


def clone(module: torch.nn.Module) -> torch.nn.Module:
    """A deep copy in eval mode, so a pass never edits its input."""
    return copy.deepcopy(module).eval()


def graph_costs(module: torch.nn.Module, shape: tuple[int, ...]) -> GraphAnalysis:
    """The exact ONNX analysis (:mod:`edgekit.analysis`) of ``module`` at ``shape``: its MACs and params.

    The module is exported as :func:`edgekit.analysis.analyze_model` exports registry models
    (batch norm kept, so ``params`` is the module's parameter count), so a pass reports the
    same MACs that ``edgekit analyze`` reports for the graph.

    Raises:
        BadInputError: the module does not export to ONNX, so its MACs cannot be counted.
    """
    try:
        with silenced_fds(), _plain_attention():  # a failing export dumps its graph on fds 1 and 2
            graph = torch_to_onnx(module, shape, dynamic_batch=False, fold_constants=False)
    except Exception as exc:  # the exporter raises UnsupportedOperatorError (and others) for some ops
        lines = str(exc).strip().splitlines()
        detail = f"{exc.__class__.__name__}: {lines[0] if lines else ''}"
        raise BadInputError(f"cannot count MACs: the module does not export to ONNX: {detail}") from exc
    return analyze_onnx(graph, source="torch module")


@contextlib.contextmanager
def _plain_attention() -> Iterator[None]:
    """Export ``nn.MultiheadAttention`` as its matrix products, not the fused inference kernel.

    Under ``no_grad`` torch runs attention through ``_native_multi_head_attention``, which has
    no ONNX symbolic; the fast path changes only the kernel, not the products counted.
    """
    import torch

    enabled = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(enabled)


def layer_macs(analysis: GraphAnalysis, layers: Iterable[str]) -> int:
    """MACs of the graph nodes that the modules named ``layers`` (qualified names) produced.

    The TorchScript exporter names every node by the module scopes it ran in (``/fc/Gemm``,
    ``/blocks/blocks.0/MatMul``), so a node belongs to the module its last scope names. Products a
    parent computes from a child's weight (``/mha/Gemm`` over ``mha.out_proj.weight``) are the parent's.
    """
    wanted = set(layers)
    return sum(n.macs for n in analysis.nodes if n.name.rpartition("/")[0].rpartition("/")[2] in wanted)


def macs_and_params(module: torch.nn.Module, shape: tuple[int, ...]) -> tuple[int, int]:
    """Exact multiply-accumulates of one forward pass and the parameter count, from :func:`graph_costs`."""
    analysis = graph_costs(module, shape)
    return analysis.macs, analysis.params


def classifier_layers(module: torch.nn.Module, shape: tuple[int, ...]) -> list[torch.nn.Module]:
    """The layer that produces the class scores: the last Linear/Conv2d whose width is the output's.

    Pruning must keep it whole so the model still predicts every class.
    """
    import torch

    with torch.no_grad():
        classes = int(module(example_input(shape)).shape[-1])
    widths = {torch.nn.Linear: "out_features", torch.nn.Conv2d: "out_channels"}
    candidates = [
        layer for layer in module.modules()
        if type(layer) in widths and getattr(layer, widths[type(layer)]) == classes
    ]  # fmt: skip
    return candidates[-1:]
