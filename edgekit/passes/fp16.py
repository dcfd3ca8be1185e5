"""FP16 conversion of an ONNX graph; inputs and outputs stay float32 unless asked."""

from __future__ import annotations

import warnings

import onnx
from pydantic import Field

from edgekit.analysis._graph import topological_nodes
from edgekit.passes._base import Artifact, Capabilities, Pass, PassConfig, PassReport, PassResult, method_of


class Fp16Config(PassConfig):
    """What to keep in float32."""

    keep_io_float32: bool = Field(True, description="graph inputs/outputs stay float32 (Cast nodes added inside)")
    op_block_list: tuple[str, ...] = Field((), description="op types kept in float32 besides onnxruntime's defaults")


class Fp16(Pass):
    """Convert weights and activations to float16 with onnxruntime's converter."""

    name = "fp16"
    config_class = Fp16Config
    capabilities = Capabilities(
        input_kind="onnx", output_kind="onnx", precision="fp16", parity="fp16", dependencies=("onnxruntime",)
    )
    description = "float16 weights and activations (I/O kept float32)"

    def _apply(self, artifact: Artifact, config: Fp16Config) -> PassResult:
        from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

        source: onnx.ModelProto = artifact.model
        copy = onnx.ModelProto()
        copy.CopyFrom(source)  # the converter edits its argument in place
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # it warns about values clamped to the fp16 range
            half = convert_float_to_float16(
                copy, keep_io_types=config.keep_io_float32,
                op_block_list=list(DEFAULT_OP_BLOCK_LIST) + list(config.op_block_list),
            )  # fmt: skip
        _sort_nodes(half)
        report = PassReport(pass_name=self.name)
        method = method_of(self.name)
        report.add("bytes_before", source.ByteSize(), "B", method)
        report.add("bytes_after", half.ByteSize(), "B", method)
        report.add("cast_nodes", sum(n.op_type == "Cast" for n in half.graph.node), "count", method)
        io = "float32 I/O" if config.keep_io_float32 else "float16 I/O"
        report.notes.append(f"{io}; blocked ops stay float32 behind Cast nodes")
        return PassResult(artifact=artifact.with_model(half), report=report)


def _sort_nodes(model: onnx.ModelProto) -> None:
    """Restore topological node order: the converter appends its input Casts at the end of the list,
    which onnxruntime tolerates but the ONNX spec (and onnx.checker) does not."""
    ordered = []
    for node in topological_nodes(model.graph):
        copy = onnx.NodeProto()
        copy.CopyFrom(node)  # copied before the container is cleared
        ordered.append(copy)
    del model.graph.node[:]
    model.graph.node.extend(ordered)
