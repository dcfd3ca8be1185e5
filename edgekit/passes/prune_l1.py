"""The seed's L1 unstructured pruning, made permanent, with its real (unchanged) dense cost.

``torch.nn.utils.prune`` only masks weights (``weight_orig`` + ``weight_mask``) until
``prune.remove``; the zeros it leaves are still multiplied by dense kernels, so MACs, file
size and latency stay those of the dense model. Kept as an honest baseline.
"""

from __future__ import annotations

from pydantic import Field

from edgekit.passes._base import Artifact, Capabilities, Pass, PassConfig, PassReport, PassResult, method_of
from edgekit.passes._torch_util import COUNTER_METHOD, clone, macs_and_params

# The seed blog's amount: prune.global_unstructured(..., amount=0.2).
SEED_L1_AMOUNT = 0.2


class PruneL1Config(PassConfig):
    """Share of Conv/Linear weights zeroed, ranked by |w| across the whole network."""

    amount: float = Field(SEED_L1_AMOUNT, gt=0.0, lt=1.0)


class PruneL1(Pass):
    """Global L1 unstructured pruning of Conv2d and Linear weights, then ``prune.remove``."""

    name = "prune_l1"
    config_class = PruneL1Config
    capabilities = Capabilities(
        input_kind="torch", output_kind="torch", precision="fp32", parity="lossy", dependencies=("torch",)
    )
    description = "seed baseline: global L1 unstructured zeros (no dense speed-up)"

    def _apply(self, artifact: Artifact, config: PruneL1Config) -> PassResult:
        import torch
        from torch.nn.utils import prune

        model = clone(artifact.model)
        macs_before, params = macs_and_params(model, artifact.input_shape)
        targets = [(m, "weight") for m in model.modules() if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)]
        prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=config.amount)
        for module, attribute in targets:
            prune.remove(module, attribute)  # bake the mask in: no weight_orig / weight_mask left
        pruned_zeros = sum(int((m.weight == 0).sum()) for m, _ in targets)
        pruned_total = sum(m.weight.numel() for m, _ in targets)
        all_zeros = sum(int((p == 0).sum()) for p in model.parameters())
        macs_after, params_after = macs_and_params(model, artifact.input_shape)
        report = PassReport(pass_name=self.name)
        method = method_of(self.name)
        report.add("sparsity_pruned_weights_pct", 100.0 * pruned_zeros / pruned_total, "%", method)
        report.add("sparsity_all_params_pct", 100.0 * all_zeros / params, "%", method)
        report.add("macs_before", macs_before, "MAC", COUNTER_METHOD)
        report.add("macs_after", macs_after, "MAC", COUNTER_METHOD)
        report.add("params_after", params_after, "count", COUNTER_METHOD)
        report.notes.append(
            f"{len(targets)} Conv/Linear weights pruned in place (mask removed); zeros are still stored and "
            "multiplied: dense MACs, size and speed unchanged"
        )
        return PassResult(artifact=artifact.with_model(model), report=report)
