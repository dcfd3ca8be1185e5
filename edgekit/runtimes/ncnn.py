"""The ncnn runtime: the CPU runner and the converter (pnnx ONNX → ``.ncnn.param`` + ``.ncnn.bin``).

The runner times the ``.ncnn.param`` + ``.ncnn.bin`` pair ``edgekit export --target ncnn`` writes.

ncnn has no batch axis: one timed run of batch N is N extractions, one image each. The
``.param`` file does not record the input size, so it comes from ``input_px`` or from the
export's ``manifest.json`` (the folder above ``ncnn/``).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from edgekit.bench._inputs import random_pixels
from edgekit.bench.runners._base import ArtifactSource, PreparedRun, Runner, Source, register_runner
from edgekit.errors import BadInputError, MissingDependencyError, VerificationError
from edgekit.onnx_io import copy_onnx, load_onnx
from edgekit.runtimes._spec import Runtime, register_runtime
from edgekit.targets._converter import ToolchainConverter
from edgekit.targets._isolated import call_isolated
from edgekit.targets.preflight import graph_inputs

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


NCNN_DIR = "ncnn"
PNNX_TIMEOUT_S = 600  # pnnx converts resnet50-sized graphs in well under a minute on 2 cores
_LOG_TAIL_LINES = 5
_LAYER_LINE = re.compile(r"^(\S+)\s+\S+\s+\d+\s+\d+")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # pnnx colours onnxruntime's warnings; an error line stays plain


def pnnx_executable() -> Path:
    """The pnnx binary shipped inside the ``pnnx`` wheel (found without importing it: that imports torch).

    Raises:
        MissingDependencyError: the pnnx package is not installed.
    """
    spec = importlib.util.find_spec("pnnx")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("pnnx is not installed (pip install edgekit[ncnn])")
    binary = Path(next(iter(spec.submodule_search_locations))) / "pnnx"
    if not binary.is_file():
        raise MissingDependencyError(f"the pnnx package has no executable at {binary}")
    return binary


def param_layer_types(param: Path) -> list[str]:
    """Layer types named in an ncnn .param file (first two lines are magic and counts)."""
    lines = param.read_text().splitlines()[2:]
    return [m.group(1) for line in lines if (m := _LAYER_LINE.match(line))]


class NcnnConverter(ToolchainConverter):
    """pnnx ONNX → ncnn conversion at the artifact's static input shape, run with fp16 paths off."""

    name = "ncnn"
    distributions = ("ncnn", "pnnx")

    def _pnnx(self, onnx_path: Path, shape: list[int], fp16: bool, work: Path) -> Path:

        source = copy_onnx(onnx_path, work / "model.onnx")
        command = [str(pnnx_executable()), source.name, f"inputshape=[{','.join(map(str, shape))}]",
                   f"fp16={int(fp16)}"]  # fmt: skip
        try:
            result = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=PNNX_TIMEOUT_S,
                                    check=False)  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise VerificationError(f"pnnx did not finish converting {onnx_path.name} in {PNNX_TIMEOUT_S} s") from exc
        param = work / "model.ncnn.param"
        if result.returncode != 0 or not param.is_file():
            log = _ANSI.sub("", result.stdout + result.stderr)
            tail = " | ".join(" ".join(line.split()) for line in log.strip().splitlines()[-_LOG_TAIL_LINES:])
            raise VerificationError(f"pnnx failed to convert {onnx_path.name} (exit {result.returncode}): {tail}")
        return param

    def _require_known_layers(self, param: Path) -> None:
        import ncnn

        unknown = sorted({t for t in param_layer_types(param) if ncnn.layer_to_index(t) < 0})
        if unknown:
            raise BadInputError(f"target {self.spec.id}: ncnn has no layer for {', '.join(unknown)} "
                                "(pnnx could not lower these operators)")  # fmt: skip

    def convert(self, onnx_path: Path, out_dir: Path, precision: str) -> list[Path]:
        """Write ``ncnn/model.ncnn.param`` + ``.bin`` (fp16 weights for the fp16 precision)."""
        (shape,) = graph_inputs(load_onnx(onnx_path, load_weights=False)).values()
        if not all(isinstance(d, int) and d > 0 for d in shape):
            raise BadInputError(f"target {self.spec.id} needs a static input shape for pnnx, got {shape}")
        with tempfile.TemporaryDirectory(prefix="edgekit-pnnx-") as folder:
            param = self._pnnx(onnx_path, [int(d) for d in shape], precision == "fp16", Path(folder))
            self._require_known_layers(param)
            target = out_dir / NCNN_DIR
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(param, target / f"{onnx_path.stem}.ncnn.param")
            shutil.copyfile(param.with_suffix(".bin"), target / f"{onnx_path.stem}.ncnn.bin")
        return [Path(NCNN_DIR) / f"{onnx_path.stem}.ncnn.param", Path(NCNN_DIR) / f"{onnx_path.stem}.ncnn.bin"]

    def run(self, out_dir: Path, files: list[Path], pixels: np.ndarray) -> np.ndarray:
        """Run sample by sample (ncnn has no batch axis) on the CPU, fp16 storage and arithmetic off.

        The run happens in a child process: ncnn's bindings end the process with SIGSEGV on an input
        they do not expect, which there becomes a BadInputError (see ``_isolated``).
        """
        param, weights = out_dir / files[0], out_dir / files[1]
        return call_isolated(f"ncnn running {files[0].name}", run_ncnn, param, weights, pixels, self.threads)


def run_ncnn(param: Path, weights: Path, pixels: np.ndarray, threads: int | None) -> np.ndarray:
    """(N, C, H, W) float32 samples through an ncnn .param/.bin, one extractor per sample; (N, classes) out.

    Raises:
        VerificationError: ncnn cannot load the files, or an extraction fails.
    """
    import ncnn

    net = ncnn.Net()
    for option in ("use_vulkan_compute", "use_fp16_packed", "use_fp16_storage", "use_fp16_arithmetic",
                   "use_bf16_storage"):  # fmt: skip
        setattr(net.opt, option, False)
    if threads:
        net.opt.num_threads = threads
    if net.load_param(str(param)) != 0 or net.load_model(str(weights)) != 0:
        raise VerificationError(f"ncnn cannot load {param.name}")
    (input_name,), (output_name,) = net.input_names(), net.output_names()
    outputs = []
    for sample in pixels:
        extractor = net.create_extractor()
        extractor.input(input_name, ncnn.Mat(np.ascontiguousarray(sample)).clone())
        status, mat = extractor.extract(output_name)
        if status != 0:
            raise VerificationError(f"ncnn failed to run {param.name} (extract returned {status})")
        outputs.append(np.array(mat).reshape(-1))
    return np.stack(outputs)


RUNTIME = register_runtime(Runtime(
    name="ncnn", description="ncnn: ONNX converted by pnnx to .ncnn.param + .ncnn.bin, CPU",
    runners=(NcnnCpuRunner.name,), converter=NcnnConverter, packages=("ncnn", "pnnx"), artifact_suffix=".param",
    artifact_folder=NCNN_DIR, artifact_role="ncnn", times_targets_with=NcnnCpuRunner.name,
))  # fmt: skip
