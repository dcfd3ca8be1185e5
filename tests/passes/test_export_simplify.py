"""ONNX export and onnxsim simplification."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from edgekit.passes import get_pass
from edgekit.verify import FP32_MAX_RELATIVE_ERROR, Evaluated, ProbeInputs, random_inputs, verify_step
from tests.passes.tiny import TINY_SHAPE, onnx_artifact, torch_artifact


def _probe() -> ProbeInputs:
    return ProbeInputs(random=random_inputs(TINY_SHAPE), images=random_inputs(TINY_SHAPE, 2), images_label="x")


def test_export_is_fp32_with_dynamic_batch_and_parity() -> None:
    # setup
    source = torch_artifact()
    # execute
    result = get_pass("export_onnx").run(source, {"opset": 13})
    # assert
    graph = result.artifact.model
    assert result.artifact.kind == "onnx"
    assert [o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")] == [13]
    dims = graph.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch"
    assert [d.dim_value for d in dims[1:]] == [3, 32, 32]
    assert {i.data_type for i in graph.graph.initializer} == {onnx.TensorProto.FLOAT}
    assert result.report.metric("nodes").value == len(graph.graph.node)
    verdict = verify_step("export_onnx", "fp32", Evaluated(source, _probe()), Evaluated(result.artifact, _probe()))
    assert verdict.status == "passed"
    assert verdict.fidelity.relative_max_error <= FP32_MAX_RELATIVE_ERROR
    assert verdict.structural == "ok"


def test_static_batch_export_fixes_batch_one() -> None:
    graph = get_pass("export_onnx").run(torch_artifact(), {"dynamic_batch": False}).artifact.model
    assert graph.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 1


def test_export_is_byte_deterministic() -> None:
    first = onnx_artifact().model.SerializeToString()
    second = onnx_artifact().model.SerializeToString()
    assert first == second


def test_simplify_folds_unfused_batchnorm_and_keeps_outputs() -> None:
    # setup: BatchNorm kept as nodes by the export, so onnxsim has something to fold
    source = onnx_artifact(fold_constants=False)
    assert sum(n.op_type == "BatchNormalization" for n in source.model.graph.node) == 2
    # execute
    result = get_pass("simplify").run(source)
    # assert
    simplified = result.artifact.model
    assert result.report.status == "applied"
    assert sum(n.op_type == "BatchNormalization" for n in simplified.graph.node) == 0
    assert result.report.metric("nodes_after").value < result.report.metric("nodes_before").value
    assert result.report.notes == [f"{len(source.model.graph.node)} → {len(simplified.graph.node)} nodes"]
    verdict = verify_step("simplify", "fp32", Evaluated(source, _probe()), Evaluated(result.artifact, _probe()))
    assert verdict.status == "passed"


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [(RuntimeError("cannot fold\nmore"), "RuntimeError: cannot fold"), ((None, False), "onnxsim's own output check")],
)
def test_simplify_failure_keeps_the_input_and_says_why(monkeypatch: pytest.MonkeyPatch, outcome: object,
                                                       reason: str) -> None:  # fmt: skip
    import onnxsim

    def fake(model: onnx.ModelProto, **_: object) -> tuple[onnx.ModelProto, bool]:
        if isinstance(outcome, Exception):
            raise outcome
        return model, False

    monkeypatch.setattr(onnxsim, "simplify", fake)
    source = onnx_artifact()
    result = get_pass("simplify").run(source)
    assert result.report.status == "kept_input"
    assert result.artifact.model.SerializeToString() == source.model.SerializeToString()
    assert reason in result.report.notes[0]
    assert result.report.notes[0].startswith("onnxsim failed, unsimplified model kept")


def test_random_inputs_are_seeded() -> None:
    assert np.array_equal(random_inputs(TINY_SHAPE), random_inputs(TINY_SHAPE))
    assert random_inputs(TINY_SHAPE).shape == (4, 3, 32, 32)
