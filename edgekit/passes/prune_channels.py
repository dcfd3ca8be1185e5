"""Structured channel pruning with Torch-Pruning: channels are removed, so dense cost really drops.

Torch-Pruning traces the module's dependency graph and removes coupled channels together
(a conv's output channels with the next conv's inputs, BatchNorm, residual adds). The
classifier layer is kept whole. Without fine-tuning the function changes; accuracy must be
recovered by training, which this pass does not do.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from edgekit.errors import BadInputError
from edgekit.passes._base import Artifact, Capabilities, Pass, PassConfig, PassReport, PassResult, method_of
from edgekit.passes._torch_util import COUNTER_METHOD, classifier_layers, clone, example_input, macs_and_params

# Channel counts rounded to multiples of 8 keep SIMD/tensor-core friendly widths.
DEFAULT_ROUND_TO = 8


class PruneChannelsConfig(PassConfig):
    """How many channels go and how they are ranked."""

    ratio: float = Field(0.3, gt=0.0, lt=1.0, description="share of channels removed per layer")
    importance: Literal["l1", "l2"] = Field("l1", description="channel ranking by weight magnitude norm")
    round_to: int | None = Field(DEFAULT_ROUND_TO, ge=1, description="keep channel counts multiples of this")
    global_pruning: bool = Field(False, description="rank channels across layers instead of per layer")


class PruneChannels(Pass):
    """Remove a ratio of channels per layer by magnitude, keeping the classifier."""

    name = "prune_channels"
    config_class = PruneChannelsConfig
    capabilities = Capabilities(
        input_kind="torch", output_kind="torch", precision="fp32", parity="lossy",
        dependencies=("torch", "torch_pruning"),
    )  # fmt: skip
    description = "structured channel pruning (Torch-Pruning); fewer MACs and params for real"

    def _apply(self, artifact: Artifact, config: PruneChannelsConfig) -> PassResult:
        model = clone(artifact.model)
        macs_before, params_before = macs_and_params(model, artifact.input_shape)
        _prune(model, artifact.input_shape, config)
        macs_after, params_after = macs_and_params(model, artifact.input_shape)
        report = PassReport(pass_name=self.name)
        for name, value, unit in (
            ("macs_before", macs_before, "MAC"), ("macs_after", macs_after, "MAC"),
            ("params_before", params_before, "count"), ("params_after", params_after, "count"),
        ):  # fmt: skip
            report.add(name, value, unit, COUNTER_METHOD)
        report.add("macs_ratio", macs_after / macs_before, "ratio", method_of(self.name))
        report.notes.append(
            f"{config.ratio:.0%} of channels removed per layer ({config.importance} magnitude); classifier kept; "
            "not fine-tuned: fidelity to the parent is reported, not gated"
        )
        return PassResult(artifact=artifact.with_model(model), report=report)


def _prune(model: object, shape: tuple[int, ...], config: PruneChannelsConfig) -> None:
    import torch_pruning as tp

    importance = tp.importance.MagnitudeImportance(p=1 if config.importance == "l1" else 2)
    try:
        pruner = tp.pruner.MagnitudePruner(
            model, example_input(shape), importance=importance, pruning_ratio=config.ratio,
            ignored_layers=classifier_layers(model, shape), round_to=config.round_to,
            global_pruning=config.global_pruning,
        )  # fmt: skip
        pruner.step()
    except Exception as exc:  # torch-pruning raises assorted errors on graphs it cannot trace
        raise BadInputError(f"torch-pruning cannot prune this model: {exc.__class__.__name__}: {exc}") from exc
