"""ncnn CPU runner: times the ``.ncnn.param`` + ``.ncnn.bin`` pair ``edgekit export --target ncnn`` writes.

ncnn has no batch axis: one timed run of batch N is N extractions, one image each. The
``.param`` file does not record the input size, so it comes from ``input_px`` or from the
export's ``manifest.json`` (the folder above ``ncnn/``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from edgekit.bench._inputs import random_pixels
from edgekit.bench.runners._base import ArtifactSource, PreparedRun, Runner, Source, register_runner
from edgekit.errors import BadInputError

EXPORT_MANIFEST = "manifest.json"  # edgekit.targets.export.MANIFEST_NAME (not imported: keeps listing cheap)
# fp32 rows must be fp32: ncnn would otherwise store/compute in fp16 (or bf16) where the CPU can.
_PRECISION_OPTIONS = ("use_fp16_packed", "use_fp16_storage", "use_fp16_arithmetic", "use_bf16_storage")


def _bin_of(param: Path) -> Path:
    return param.with_suffix(".bin")


def _manifest_chw(param: Path) -> tuple[int, int, int] | None:
    """(C, H, W) from an edgekit export manifest next to the ncnn folder, if there is one."""
    for folder in (param.parent, param.parent.parent):
        manifest = folder / EXPORT_MANIFEST
        if manifest.is_file():
            shape = json.loads(manifest.read_text()).get("input_shape")
            if isinstance(shape, list) and len(shape) == 4 and all(isinstance(d, int) for d in shape[1:]):
                return int(shape[1]), int(shape[2]), int(shape[3])
    return None


def _input_chw(param: Path, input_px: int | None) -> tuple[int, int, int]:
    if input_px:
        return 3, input_px, input_px
    chw = _manifest_chw(param)
    if chw is None:
        raise BadInputError(f"{param.name} does not record its input size and no export manifest is beside it; "
                            "pass --input-size")  # fmt: skip
    return chw


def _load(param: Path, threads: int) -> Any:
    import ncnn

    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    for option in _PRECISION_OPTIONS:
        setattr(net.opt, option, False)
    net.opt.num_threads = threads
    if net.load_param(str(param)) != 0 or net.load_model(str(_bin_of(param))) != 0:
        raise BadInputError(f"ncnn cannot load {param.name} (+ {_bin_of(param).name})")
    return net


@register_runner
class NcnnCpuRunner(Runner):
    """ncnn on the CPU, fp16/bf16 paths off, explicit thread count; batch N = N extractions."""

    name = "ncnn-cpu"
    family = "ncnn"
    device = "cpu"
    artifact_suffixes = (".param",)
    packages = ("ncnn",)
    optional_module = ("ncnn", "ncnn")

    def prepare(self, source: Source, batch: int, threads: int) -> PreparedRun:
        """Load the net, prepare ``batch`` input Mats once; ``run`` extracts the output for each."""
        self.require_available()
        import ncnn

        if not isinstance(source, ArtifactSource):
            raise BadInputError("ncnn-cpu times .ncnn.param files; run `edgekit export MODEL --target ncnn` first")
        param = Path(source.path)
        if not _bin_of(param).is_file():
            raise BadInputError(f"{param.name} has no weights file {_bin_of(param).name} beside it")
        chw = _input_chw(param, source.input_px)
        net = _load(param, threads)
        (input_name,), (output_name,) = net.input_names(), net.output_names()
        pixels = random_pixels((batch, *chw))
        mats = [ncnn.Mat(np.ascontiguousarray(image)).clone() for image in pixels]

        def run() -> list[Any]:
            outputs = []
            for mat in mats:
                extractor = net.create_extractor()
                extractor.input(input_name, mat)
                outputs.append(extractor.extract(output_name)[1])
            return outputs

        settings = {"threads": str(threads), "vulkan": "off", "fp16": "off", "batch_mode": "sequential extractions"}
        return PreparedRun(run=run, input_shape=(batch, *chw), settings=settings, close=net.clear)
