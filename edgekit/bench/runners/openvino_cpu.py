"""OpenVINO CPU runner: times ONNX files and OpenVINO IR (``.xml`` + ``.bin``) alike."""

from __future__ import annotations

from pathlib import Path

from edgekit.bench._inputs import random_pixels, resolve_shape
from edgekit.bench.runners._base import ArtifactSource, PreparedRun, Runner, Source, register_runner
from edgekit.errors import BadInputError, summarize_exception

# f32 on purpose: on CPUs with AMX/AVX512-BF16 OpenVINO would otherwise pick bf16 silently,
# and an fp32 row must be fp32. One stream + LATENCY hint = one request at a time.
_COMPILE_CONFIG = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": "1", "INFERENCE_PRECISION_HINT": "f32"}


@register_runner
class OpenvinoCpuRunner(Runner):
    """OpenVINO on the CPU with explicit ``INFERENCE_NUM_THREADS``, reshaped to a static batch."""

    name = "openvino-cpu"
    family = "openvino"
    device = "cpu"
    artifact_suffixes = (".onnx", ".xml")
    packages = ("openvino",)
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
        model.reshape({model.inputs[0].any_name: ov.PartialShape(list(shape))})
        config = _COMPILE_CONFIG | {"INFERENCE_NUM_THREADS": str(threads)}
        compiled = core.compile_model(model, "CPU", config)
        request = compiled.create_infer_request()
        request.set_input_tensor(ov.Tensor(random_pixels(shape)))
        settings = config | {"device": "CPU"}
        return PreparedRun(run=request.infer, input_shape=shape, settings=settings)
