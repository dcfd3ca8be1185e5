"""The typed result of a graph analysis."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from edgekit.metrics import Metric, computed
from edgekit.models import Preprocessing

ANALYZER = "edgekit.analyze@1"


class TensorSpec(BaseModel):
    """Name, shape (symbolic dims as strings) and element type of a graph input or output."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    shape: list[int | str]
    dtype: str


class NodeCost(BaseModel):
    """Per-node cost facts at batch 1, the inputs of the latency predictor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    op_type: str
    macs: int
    weight_bytes: int = Field(description="bytes of constant inputs as stored (int8 stays 1 B/elem)")
    input_bytes: int = Field(description="bytes of activation inputs read")
    output_bytes: int = Field(description="bytes of activations written")
    depthwise: bool = False


class GraphAnalysis(BaseModel):
    """Exact facts computed from one ONNX graph."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(description="file path or model name the graph came from")
    sha256: str = Field(description="digest of the serialized graph analysed")
    opset: int
    inputs: list[TensorSpec]
    analysed_inputs: list[TensorSpec] = Field(
        default_factory=list, description="the inputs at the static batch-1 shapes every figure was computed at"
    )
    outputs: list[TensorSpec]
    params: int
    weight_bytes_by_dtype: dict[str, int]
    macs: int
    macs_by_op: dict[str, int]
    peak_activation_bytes: int
    peak_activation_node: str
    op_histogram: dict[str, int]
    nodes: list[NodeCost]
    preprocessing: Preprocessing | None = None
    file_bytes: int | None = None

    @property
    def weight_bytes(self) -> int:
        """Total bytes of weights and constants."""
        return sum(self.weight_bytes_by_dtype.values())

    def _method(self) -> str:
        return f"{ANALYZER} over sha256:{self.sha256[:12]} ({self.source})"

    def metrics(self) -> list[Metric]:
        """The headline numbers as *computed* metrics."""
        method = self._method()
        return [
            computed("params", self.params, "count", method),
            computed("macs_giga", self.macs / 1e9, "GMAC", method),
            computed("weight_mb", self.weight_bytes / 2**20, "MB", method),
            computed("peak_activation_mb", self.peak_activation_bytes / 2**20, "MB", method),
        ]
