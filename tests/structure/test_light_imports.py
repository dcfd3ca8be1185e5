"""`import edgekit.models` stays light: the model-source names are re-exported lazily, not imported up front."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "torchvision", "onnx", "onnxruntime")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(out.stdout.strip())  # a printed list of module names  # noqa: S307


def test_import_edgekit_models_loads_no_heavy_module() -> None:
    assert _loaded_after("import edgekit.models") == []
    assert _loaded_after("import edgekit.cli.models") == []  # the `edgekit models` command module


def test_model_source_names_are_re_exported_on_first_use() -> None:
    import edgekit.models
    from edgekit.models import _source

    assert edgekit.models.parse_source is _source.parse_source
    assert edgekit.models.ModelSource is _source.ModelSource
    assert edgekit.models.parse_source("resnet18").kind == "torchvision"
    # first use loads the source module (and onnx with it), still not torch
    assert _loaded_after("from edgekit.models import parse_source") == ["onnx"]
