"""Structural checks, parity verdicts and the check of the written file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from edgekit.passes import Artifact
from edgekit.verify import (
    Evaluated,
    ProbeInputs,
    check_written,
    outputs_of,
    random_inputs,
    structural_check,
    tolerance_for,
    verify_step,
)
from tests.passes.tiny import TINY_SHAPE, onnx_artifact, torch_artifact


def _probe() -> ProbeInputs:
    return ProbeInputs(random=random_inputs(TINY_SHAPE), images=random_inputs(TINY_SHAPE, 3), images_label="imgs")


def _scaled(model: onnx.ModelProto, factor: float) -> onnx.ModelProto:
    scaled = onnx.ModelProto()
    scaled.CopyFrom(model)
    output = scaled.graph.output[0].name
    for node in scaled.graph.node:
        node.output[:] = [f"{name}_pre" if name == output else name for name in node.output]
    scaled.graph.initializer.append(numpy_helper.from_array(np.array(factor, np.float32), "factor"))
    scaled.graph.node.append(helper.make_node("Mul", [f"{output}_pre", "factor"], [output]))
    return scaled


def test_torch_and_onnx_outputs_agree() -> None:
    pixels = random_inputs(TINY_SHAPE, 2)
    torch_out = outputs_of(torch_artifact(), pixels)
    onnx_out = outputs_of(onnx_artifact(), pixels)
    assert torch_out.shape == onnx_out.shape == (2, 10)
    np.testing.assert_allclose(torch_out, onnx_out, rtol=1e-4, atol=1e-5)


def test_a_child_outside_tolerance_fails_with_figures() -> None:
    parent = onnx_artifact()
    child = parent.with_model(_scaled(parent.model, 1.001))  # 0.1% off: far beyond the fp32 bar
    verdict = verify_step("fake", "fp32", Evaluated(parent, _probe()), Evaluated(child, _probe()))
    assert verdict.status == "failed"
    assert verdict.structural == "ok"
    assert verdict.fidelity.relative_max_error > 1e-4
    assert verdict.tolerance.name == "FP32_MAX_RELATIVE_ERROR"
    assert verdict.inputs == "4 seeded N(0,1) random inputs (seed 1234)"


def test_an_invalid_graph_fails_structurally() -> None:
    parent = onnx_artifact()
    broken = onnx.ModelProto()
    broken.CopyFrom(parent.model)
    nodes = list(broken.graph.node)
    del broken.graph.node[:]
    broken.graph.node.extend(reversed(nodes))  # no longer topologically sorted
    child = Artifact(kind="onnx", model=broken, input_shape=parent.input_shape, preprocessing=parent.preprocessing)
    assert structural_check(child).startswith("onnx.checker: Nodes in a graph must be topologically sorted")
    verdict = verify_step("fake", "fp32", Evaluated(parent, _probe()), Evaluated(child, _probe()))
    assert verdict.status == "failed"
    assert verdict.detail == verdict.structural
    assert verdict.fidelity is None


def test_lossy_steps_are_reported() -> None:
    parent = onnx_artifact()
    child = parent.with_model(_scaled(parent.model, -1.0))
    verdict = verify_step("prune", "lossy", Evaluated(parent, _probe()), Evaluated(child, _probe()))
    assert verdict.status == "reported"
    assert verdict.inputs == "imgs"
    assert verdict.fidelity.cosine_mean == -1.0


def test_check_written_reloads_and_runs_the_file(tmp_path: Path) -> None:
    artifact = onnx_artifact()
    path = tmp_path / "m.onnx"
    onnx.save_model(artifact.model, str(path))
    pixels = random_inputs(TINY_SHAPE, 2)
    expected = outputs_of(artifact, pixels)
    assert check_written(path, "onnx", pixels, expected, tolerance_for("fp32")).status == "passed"
    wrong = check_written(path, "onnx", pixels, expected * 1.01, tolerance_for("fp32"))
    assert wrong.status == "failed"
    assert wrong.detail.startswith("onnxruntime, all graph optimizations: max|err|")
    path.write_bytes(b"garbage")
    broken = check_written(path, "onnx", pixels, expected, tolerance_for("fp32"))
    assert broken.status == "failed"
    assert broken.detail.startswith("the written file does not run: onnxruntime cannot load the model")


def test_a_failure_on_tiny_parent_logits_says_so() -> None:
    parent = onnx_artifact()
    tiny_parent = parent.with_model(_scaled(parent.model, 1e-9))
    collapsed = parent.with_model(_scaled(parent.model, 0.0))
    verdict = verify_step("q", "int8", Evaluated(tiny_parent, _probe()), Evaluated(collapsed, _probe()))
    assert verdict.status == "failed"
    assert "the parent's logits are tiny (max " in verdict.detail
    assert "random-init weights whose activations vanish" in verdict.detail
