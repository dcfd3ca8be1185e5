"""A pass that lives outside edgekit, loaded from an entry point of the ``edgekit.passes`` group."""

from __future__ import annotations

from edgekit.passes import Capabilities, Pass, PassConfig, PassReport, PassResult


class PluginIdentity(Pass):
    """Returns the ONNX model unchanged."""

    name = "plugin_identity"
    config_class = PassConfig
    capabilities = Capabilities(input_kind="onnx", output_kind="onnx", precision="fp32", parity="fp32")
    description = "identity (a plug-in pass from the tests folder)"

    def _apply(self, artifact, config):  # noqa: ANN001, ANN202
        return PassResult(artifact=artifact, report=PassReport(pass_name=self.name))
