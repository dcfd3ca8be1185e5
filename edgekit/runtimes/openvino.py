"""The OpenVINO runtime: the CPU runner (times ONNX files and OpenVINO IR alike) and the converter
(ONNX → IR ``.xml``/``.bin``, saved with the export and run on the CPU plugin for parity)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgekit._ov_options import timed_request
from edgekit.bench._inputs import random_pixels, resolve_shape
from edgekit.bench.runners._base import ArtifactSource, PreparedRun, Runner, Source, register_runner
from edgekit.errors import BadInputError, VerificationError, summarize_exception
from edgekit.onnx_io import load_onnx
from edgekit.runtimes._spec import Runtime, register_runtime
from edgekit.targets._converter import ToolchainConverter

_PACKAGES = ("openvino",)


@register_runner
class OpenvinoCpuRunner(Runner):
    """OpenVINO on the CPU with explicit ``INFERENCE_NUM_THREADS``, reshaped to a static batch."""

    name = "openvino-cpu"
    family = "openvino"
    device = "cpu"
    artifact_suffixes = (".onnx", ".xml")
    packages = _PACKAGES
    optional_module = ("openvino", "openvino")

    def prepare(self, source: Source, batch: int, threads: int) -> PreparedRun:
        """Read, reshape to ``batch``, compile for the CPU, and bind the input tensor once."""
        self.require_available()
        import openvino as ov

        if not isinstance(source, ArtifactSource):
            raise BadInputError("openvino-cpu times ONNX or OpenVINO IR files; export the model first")
        path = Path(source.path)
        core = ov.Core()
        try:
            model = core.read_model(str(path))
        except RuntimeError as exc:
            # The first lines of OpenVINO's message only name C++ source locations; keep what it says.
            raise BadInputError(f"OpenVINO cannot read {path.name}: {summarize_exception(exc)}") from exc
        if len(model.inputs) != 1:
            raise BadInputError(f"{path.name}: expected one input, found {len(model.inputs)}")
        dims = [d.get_length() if d.is_static else None for d in model.inputs[0].get_partial_shape()]
        shape = resolve_shape(dims, batch, source.input_px, path.name)
        run, settings = timed_request(ov, core, model, shape, threads, random_pixels(shape))
        return PreparedRun(run=run, input_shape=shape, settings=settings)


IR_DIR = "openvino"
# f32 keeps the CPU plugin from running float layers in bf16/fp16 on CPUs that have them, so
# parity measures the conversion and not a silent precision change; int8 QDQ layers stay int8.
PARITY_PRECISION_HINT = "f32"


def unconverted_ops(onnx_path: Path) -> list[str]:
    """Operators the installed OpenVINO ONNX frontend cannot convert, as ``domain::type`` or ``type``.

    The frontend leaves them as ``ONNXFrameworkNode``s named after the ONNX node or its output;
    they are mapped back to the ONNX graph (their attribute maps are not safe to read).
    """
    from openvino.frontend import FrontEndManager

    by_name = {}
    for node in load_onnx(onnx_path, load_weights=False).graph.node:
        label = f"{node.domain}::{node.op_type}" if node.domain not in ("", "ai.onnx") else node.op_type
        by_name.update({key: label for key in (node.name, *node.output) if key})
    frontend = FrontEndManager().load_by_framework("onnx")
    partial = frontend.convert_partially(frontend.load(str(onnx_path)))
    framework = [op.get_friendly_name() for op in partial.get_ops() if op.get_type_name() == "ONNXFrameworkNode"]
    return sorted({by_name.get(name, name) for name in framework})


class OpenvinoConverter(ToolchainConverter):
    """Converts with ``openvino.convert_model``, saves IR, runs it with the CPU plugin."""

    name = "openvino"
    distributions = _PACKAGES

    def convert(self, onnx_path: Path, out_dir: Path, precision: str) -> list[Path]:
        """Save ``openvino/model.xml`` + ``.bin`` (weights compressed to fp16 for the fp16 precision)."""
        import openvino as ov

        try:
            model = ov.convert_model(str(onnx_path))
        except Exception as exc:  # OpConversionFailure and friends are not exported as one base class
            missing = unconverted_ops(onnx_path)
            if missing:
                raise BadInputError(f"target {self.spec.id}: OpenVINO {ov.__version__} cannot convert operator(s) "
                                    f"{', '.join(missing)}") from exc  # fmt: skip
            raise VerificationError(f"OpenVINO failed to convert {onnx_path.name}: {summarize_exception(exc)}") from exc
        xml = out_dir / IR_DIR / f"{onnx_path.stem}.xml"
        xml.parent.mkdir(parents=True, exist_ok=True)
        ov.save_model(model, str(xml), compress_to_fp16=precision == "fp16")
        return [xml.relative_to(out_dir), xml.with_suffix(".bin").relative_to(out_dir)]

    def compiled_model(self, xml: Path) -> Any:
        """Compile the IR on the CPU plugin with the parity precision hint and the chosen threads."""
        import openvino as ov

        config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": PARITY_PRECISION_HINT}
        if self.threads:
            config["INFERENCE_NUM_THREADS"] = self.threads
        return ov.Core().compile_model(str(xml), "CPU", config)

    def run(self, out_dir: Path, files: list[Path], pixels: np.ndarray) -> np.ndarray:
        """Run all samples, in one batch when the IR's batch is dynamic, else one by one."""
        compiled = self.compiled_model(out_dir / files[0])
        request = compiled.create_infer_request()
        batch_dim = compiled.inputs[0].get_partial_shape()[0]
        step = len(pixels) if batch_dim.is_dynamic else batch_dim.get_length()
        outputs = []
        for start in range(0, len(pixels), step):
            request.infer({0: np.ascontiguousarray(pixels[start : start + step])})
            outputs.append(request.get_output_tensor(0).data.copy())
        return np.concatenate(outputs, axis=0)


RUNTIME = register_runtime(Runtime(
    name="openvino", description="OpenVINO: ONNX converted to IR (.xml + .bin), CPU plugin",
    runners=(OpenvinoCpuRunner.name,), converter=OpenvinoConverter, packages=_PACKAGES, artifact_suffix=".xml",
    artifact_folder=IR_DIR, artifact_role="openvino-ir", times_targets_with=OpenvinoCpuRunner.name,
    abbreviation="ov",
))  # fmt: skip
