"""Analysis of registry models by name, cached on disk by torchvision version."""

from __future__ import annotations

import json
import logging
from importlib.metadata import version

from edgekit.analysis._analyze import analyze_onnx
from edgekit.analysis._result import ANALYZER, GraphAnalysis
from edgekit.fileio import write_json_atomic
from edgekit.models import build_model, get_model_info
from edgekit.onnx_io import torch_to_onnx
from edgekit.paths import cache_dir

log = logging.getLogger(__name__)  # steps for the CLI's progress line (edgekit.cli._progress)


def analyze_model(name: str, input_px: int | None = None) -> GraphAnalysis:
    """Analyse a registry model's architecture at its (or the given) input size.

    The preprocessing reported is the weights' own at that size (:meth:`Preprocessing.at_size`).

    The graph is exported with batch-norm unfolded, so ``params`` equals the PyTorch module's
    parameter count. Results are cached under ``$EDGEKIT_HOME/cache/analysis`` keyed by
    model, input size, torchvision version and analyzer version; weights do not matter.

    Raises:
        UnknownNameError: ``name`` is not a registry model.
    """
    info = get_model_info(name)
    px = input_px or info.preprocessing.crop_px
    key = f"{name}-{px}px-tv{version('torchvision')}-{ANALYZER.replace('@', '')}.json"
    cached = cache_dir("analysis") / key
    # The preprocessing follows the input size (crop = px), also over analyses cached before it did.
    sized = {"preprocessing": info.preprocessing.at_size(px)}
    if cached.is_file():
        return GraphAnalysis.model_validate(json.loads(cached.read_text())).model_copy(update=sized)
    log.info("exporting %s to ONNX at %d px for analysis (cached afterwards)", name, px)
    model = build_model(name, "none")
    graph = torch_to_onnx(model, (1, 3, px, px), fold_constants=False)
    log.info("analysing %s's graph", name)
    analysis = analyze_onnx(graph, source=name).model_copy(update=sized)
    write_json_atomic(cached, analysis.model_dump(mode="json"))
    return analysis
