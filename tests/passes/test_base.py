"""The pass registry, config validation and the pass contract."""

from __future__ import annotations

import pytest

from edgekit.errors import BadInputError, UnknownNameError
from edgekit.passes import Capabilities, Pass, PassConfig, PassReport, PassResult, get_pass, list_passes
from tests.passes.tiny import onnx_artifact, torch_artifact

EXPECTED_PASSES = {
    "export_onnx", "simplify", "fp16", "ort_dynamic_quant", "static_int8",
    "torch_dynamic_quant", "prune_l1", "prune_channels",
}  # fmt: skip


def test_every_pass_is_registered_with_capabilities() -> None:
    assert set(list_passes()) == EXPECTED_PASSES
    assert list_passes("prune_*") == ["prune_channels", "prune_l1"]
    for name in EXPECTED_PASSES:
        handler = get_pass(name)
        assert handler.name == name
        assert handler.capabilities.input_kind in ("torch", "onnx")
        assert handler.description
    assert get_pass("static_int8").capabilities.needs_calibration is True
    assert get_pass("export_onnx").capabilities.output_kind == "onnx"


def test_duplicate_pass_name_raises_and_registry_is_unchanged() -> None:
    with pytest.raises(ValueError, match="duplicate pass name 'simplify'"):

        class AnotherSimplify(Pass):
            name = "simplify"
            config_class = PassConfig
            capabilities = Capabilities(input_kind="onnx", output_kind="onnx", precision="fp32", parity="fp32")

            def _apply(self, artifact, config):  # noqa: ANN001, ANN202
                return PassResult(artifact, PassReport(pass_name=self.name))

    assert type(get_pass("simplify")).__module__ == "edgekit.passes.simplify"


def test_unknown_pass_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown pass 'simplfy'; did you mean simplify\?"):
        get_pass("simplfy")


def test_config_rejects_unknown_keys_and_bad_values_in_one_line() -> None:
    export = get_pass("export_onnx")
    with pytest.raises(BadInputError, match=r"invalid config for pass export_onnx: opsett: Extra inputs"):
        export.parse_config({"opsett": 17})
    with pytest.raises(BadInputError, match=r"opset: Input should be less than or equal to 20"):
        export.parse_config({"opset": 99})
    assert export.parse_config(None).opset == 17


def test_wrong_artifact_kind_is_refused() -> None:
    with pytest.raises(BadInputError, match="pass simplify runs on onnx models, not torch"):
        get_pass("simplify").run(torch_artifact())
    with pytest.raises(BadInputError, match="pass prune_l1 runs on torch models, not onnx"):
        get_pass("prune_l1").run(onnx_artifact())


def test_report_metric_lookup() -> None:
    report = PassReport(pass_name="x")
    report.add("nodes", 3, "count", "test")
    assert report.metric("nodes").value == 3
    assert report.metric("nodes").provenance.kind == "computed"
    with pytest.raises(KeyError, match="x reported no metric 'size'"):
        report.metric("size")
