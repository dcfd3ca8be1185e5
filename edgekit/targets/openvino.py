"""OpenVINO verifier: convert the ONNX artifact to IR (.xml/.bin), save it, run it on the CPU plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgekit.errors import BadInputError, VerificationError, summarize_exception
from edgekit.targets._verifier import ToolchainVerifier

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

    from edgekit.onnx_io import load_onnx

    by_name = {}
    for node in load_onnx(onnx_path, load_weights=False).graph.node:
        label = f"{node.domain}::{node.op_type}" if node.domain not in ("", "ai.onnx") else node.op_type
        by_name.update({key: label for key in (node.name, *node.output) if key})
    frontend = FrontEndManager().load_by_framework("onnx")
    partial = frontend.convert_partially(frontend.load(str(onnx_path)))
    framework = [op.get_friendly_name() for op in partial.get_ops() if op.get_type_name() == "ONNXFrameworkNode"]
    return sorted({by_name.get(name, name) for name in framework})


class OpenvinoVerifier(ToolchainVerifier):
    """Converts with ``openvino.convert_model``, saves IR, runs it with the CPU plugin."""

    name = "openvino"
    distributions = ("openvino",)

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
