"""ncnn verifier: convert the ONNX artifact with pnnx, run the .param/.bin with the ncnn package."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from edgekit.errors import BadInputError, MissingDependencyError, VerificationError
from edgekit.targets._isolated import call_isolated
from edgekit.targets._verifier import ToolchainVerifier

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


class NcnnVerifier(ToolchainVerifier):
    """pnnx ONNX → ncnn conversion at the artifact's static input shape, run with fp16 paths off."""

    name = "ncnn"
    distributions = ("ncnn", "pnnx")

    def _pnnx(self, onnx_path: Path, shape: list[int], fp16: bool, work: Path) -> Path:
        from edgekit.onnx_io import copy_onnx

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
        from edgekit.onnx_io import load_onnx
        from edgekit.targets.preflight import graph_inputs

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
