"""The INT8 collapse guard and its fallback ladder."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from edgekit.errors import CalibrationError
from edgekit.images import generated_images
from edgekit.passes import Artifact, PassReport, PassResult, StaticInt8, StaticInt8Config
from edgekit.verify import Evaluated, ProbeInputs, Tolerance, guarded_int8, random_inputs
from tests.passes.tiny import TINY_PREP, TINY_SHAPE, DeadChannelNet, onnx_artifact


def _probe() -> ProbeInputs:
    images = generated_images(16, TINY_PREP, seed=1).pixels
    return ProbeInputs(random=random_inputs(TINY_SHAPE), images=images, images_label="16 generated held-out")


def test_per_tensor_int8_collapses_and_per_channel_recovers_it() -> None:
    # setup: conv channels whose weight scales differ by 1e4 (see DeadChannelNet)
    parent = Evaluated(onnx_artifact(DeadChannelNet), _probe())
    config = StaticInt8Config(per_channel=False, calibration_count=8)
    # execute
    result, verdict, outcome = guarded_int8(parent, config)
    # assert: the first try collapsed, per-channel recovered it, and the record says so
    initial, recovery = outcome.attempts
    assert initial.step == "initial"
    assert initial.status == "failed"
    assert initial.fidelity.cosine_mean < 0.5
    assert initial.fidelity.top1_agreement < 0.5
    assert recovery.step == "per_channel"
    assert recovery.changes == {"per_channel": True}
    assert recovery.status == "passed"
    assert recovery.fidelity.cosine_mean > 0.99
    assert outcome.status == "recovered"
    assert outcome.recovered_by == "per_channel"
    assert outcome.final_config["per_channel"] is True
    assert outcome.summary() == "int8 guard: collapse recovered by step 'per_channel'"
    assert verdict.status == "passed"
    assert "per-channel" in result.report.notes[0]


def test_a_healthy_quantization_passes_at_the_first_try() -> None:
    parent = Evaluated(onnx_artifact(DeadChannelNet), _probe())
    _, verdict, outcome = guarded_int8(parent, StaticInt8Config(calibration_count=8))
    assert outcome.status == "passed"
    assert [a.step for a in outcome.attempts] == ["initial"]
    assert outcome.recovered_by is None
    assert verdict.status == "passed"


def _zero_output(model: onnx.ModelProto) -> onnx.ModelProto:
    """The same graph with its logits multiplied by 0: a total collapse."""
    zeroed = onnx.ModelProto()
    zeroed.CopyFrom(model)
    output = zeroed.graph.output[0].name
    for node in zeroed.graph.node:
        node.output[:] = [f"{name}_pre" if name == output else name for name in node.output]
    zeroed.graph.initializer.append(numpy_helper.from_array(np.zeros((), np.float32), "zero"))
    zeroed.graph.node.append(helper.make_node("Mul", [f"{output}_pre", "zero"], [output]))
    return zeroed


@pytest.fixture
def collapses_unless_first_last_float(monkeypatch: pytest.MonkeyPatch) -> list[StaticInt8Config]:
    """Replace quantization by a fake that collapses unless the first/last layers stay float."""
    seen: list[StaticInt8Config] = []

    def fake_apply(self: StaticInt8, artifact, config: StaticInt8Config) -> PassResult:  # noqa: ANN001
        seen.append(config)
        model = artifact.model if config.exclude_first_last else _zero_output(artifact.model)
        return PassResult(artifact.with_model(model), PassReport(pass_name=self.name))

    monkeypatch.setattr(StaticInt8, "_apply", fake_apply)
    return seen


def test_ladder_order_is_cumulative_and_stops_at_the_first_step_that_passes(
    collapses_unless_first_last_float: list[StaticInt8Config],
) -> None:
    parent = Evaluated(onnx_artifact(), _probe())
    _, _, outcome = guarded_int8(parent, StaticInt8Config(per_channel=False))
    assert [(a.step, a.status) for a in outcome.attempts] == [
        ("initial", "failed"), ("per_channel", "failed"), ("calibrator", "failed"), ("first_last_float", "passed"),
    ]  # fmt: skip
    assert outcome.attempts[2].changes == {"calibration_method": "percentile"}
    final = collapses_unless_first_last_float[-1]
    assert (final.per_channel, final.calibration_method, final.exclude_first_last) == (True, "percentile", True)
    assert final.exclude_depthwise is False
    assert outcome.recovered_by == "first_last_float"


def test_a_step_already_in_effect_is_skipped(collapses_unless_first_last_float: list[StaticInt8Config]) -> None:
    parent = Evaluated(onnx_artifact(), _probe())
    _, _, outcome = guarded_int8(parent, StaticInt8Config(per_channel=True, calibration_method="entropy"))
    per_channel = outcome.attempts[1]
    assert (per_channel.step, per_channel.status, per_channel.detail) == ("per_channel", "skipped", "already in effect")
    assert outcome.attempts[2].changes == {"calibration_method": "minmax"}
    assert len(collapses_unless_first_last_float) == 3  # initial, calibrator, first_last_float


def test_when_no_step_recovers_the_variant_is_marked_failed() -> None:
    impossible = Tolerance(name="IMPOSSIBLE", rule="agreement_and_cosine", min_top1_agreement=1.0,
                           min_cosine=1.01, why="test: nothing passes")  # fmt: skip
    parent = Evaluated(onnx_artifact(DeadChannelNet), _probe())
    _, verdict, outcome = guarded_int8(parent, StaticInt8Config(per_channel=False, calibration_count=4), impossible)
    assert outcome.status == "failed"
    assert outcome.recovered_by is None
    assert [a.step for a in outcome.attempts] == [
        "initial", "per_channel", "calibrator", "first_last_float", "depthwise_float",
    ]  # fmt: skip
    assert all(a.status == "failed" for a in outcome.attempts)
    assert verdict.status == "failed"
    assert outcome.summary().startswith("int8 guard: FAILED, no fallback within tolerance (tried initial, per_channel")


def test_a_rung_that_cannot_be_built_is_recorded_and_left_out_of_later_rungs(monkeypatch: pytest.MonkeyPatch) -> None:
    # setup: the percentile calibrator cannot run on this graph; the rest collapses unless first/last stay float
    seen: list[StaticInt8Config] = []

    def fake_apply(self: StaticInt8, artifact, config: StaticInt8Config) -> PassResult:  # noqa: ANN001
        seen.append(config)
        if config.calibration_method == "percentile":
            raise CalibrationError("the percentile calibrator cannot histogram the activations (test)")
        model = artifact.model if config.exclude_first_last else _zero_output(artifact.model)
        return PassResult(artifact.with_model(model), PassReport(pass_name=self.name))

    monkeypatch.setattr(StaticInt8, "_apply", fake_apply)
    # execute
    _, verdict, outcome = guarded_int8(Evaluated(onnx_artifact(), _probe()), StaticInt8Config(per_channel=False))
    # assert: the calibrator rung failed unbuilt, first_last_float recovered without the percentile change
    assert [(a.step, a.status) for a in outcome.attempts] == [
        ("initial", "failed"), ("per_channel", "failed"), ("calibrator", "failed"), ("first_last_float", "passed"),
    ]  # fmt: skip
    assert outcome.attempts[2].detail.startswith("not built: the percentile calibrator cannot histogram")
    assert outcome.attempts[2].fidelity is None
    assert seen[-1].calibration_method == "minmax"
    assert (seen[-1].per_channel, seen[-1].exclude_first_last) == (True, True)
    assert outcome.final_config["calibration_method"] == "minmax"
    assert verdict.status == "passed"


def _near_denormal_net() -> Artifact:
    """A graph whose first activation peaks near 1e-42: too small a range for 2048 float32 histogram bins."""
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("Mul", ["input", "tiny"], ["scaled"]),
        helper.make_node("Conv", ["scaled", "w"], ["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["conv"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["logits"]),
    ]  # fmt: skip
    inits = [numpy_helper.from_array(np.array(1e-42, np.float32), "tiny"),
             numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")]  # fmt: skip
    graph = helper.make_graph(nodes, "near_denormal", [helper.make_tensor_value_info("input", 1, list(TINY_SHAPE))],
                              [helper.make_tensor_value_info("logits", 1, [1, 4])], inits)  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return onnx_artifact().with_model(model)


def test_the_percentile_calibrator_on_a_near_constant_tensor_raises_one_typed_error() -> None:
    with pytest.raises(CalibrationError, match="percentile calibrator cannot histogram the activations"):
        StaticInt8().run(_near_denormal_net(), StaticInt8Config(calibration_method="percentile", calibration_count=4))
    # the default calibrator quantizes the same graph
    assert StaticInt8().run(_near_denormal_net(), StaticInt8Config(calibration_count=4)).artifact.model.graph.node
