"""INT8 collapse guard: when int8 fidelity falls below its tolerance, walk a fallback ladder.

Per-tensor weight scales collapse layers whose output channels have very different ranges
(depthwise CNNs after BatchNorm folding are the known case). The ladder relaxes the
configuration step by step, each step keeping the previous ones:

1. ``per_channel``      one weight scale per output channel;
2. ``calibrator``       another calibration method (minmax → percentile, others → minmax);
3. ``first_last_float`` the first and last weighted layers stay float;
4. ``depthwise_float``  depthwise convolutions stay float.

The first configuration within tolerance is kept and the step that recovered it is recorded;
if none is, the outcome is ``failed`` and the variant must not be shipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from edgekit.fidelity import Fidelity
from edgekit.passes import PassResult, StaticInt8, StaticInt8Config
from edgekit.verify.checks import Evaluated, StepVerdict, verify_step
from edgekit.verify.tolerances import DecisiveAgreement, Tolerance, tolerance_for

_OTHER_CALIBRATOR = {"minmax": "percentile", "percentile": "minmax", "entropy": "minmax"}
LADDER: tuple[tuple[str, str, Callable[[StaticInt8Config], dict[str, Any]]], ...] = (
    ("per_channel", "per-channel weight scales", lambda c: {"per_channel": True}),
    ("calibrator", "another calibrator", lambda c: {"calibration_method": _OTHER_CALIBRATOR[c.calibration_method]}),
    ("first_last_float", "first and last weighted layers in float", lambda c: {"exclude_first_last": True}),
    ("depthwise_float", "depthwise convolutions in float", lambda c: {"exclude_depthwise": True}),
)


def ladder_steps(config: StaticInt8Config) -> Iterator[tuple[str, dict[str, Any], StaticInt8Config]]:
    """Walk the fallback ladder from ``config``, each rung adding to the ones before it.

    Yields ``(step, changes, config with every rung so far)``; empty ``changes`` means the rung was
    already in effect (a caller records it as skipped). The judge of each rung is the caller's.
    """
    current = config
    for step, _description, update in LADDER:
        changes = {k: v for k, v in update(current).items() if getattr(current, k) != v}
        if changes:
            current = current.model_copy(update=changes)
        yield step, changes, current


class GuardAttempt(BaseModel):
    """One rung of the ladder: what changed, and whether it was within tolerance."""

    model_config = ConfigDict(extra="forbid")

    step: str
    changes: dict[str, Any]
    status: Literal["passed", "failed", "skipped"]
    fidelity: Fidelity | None = None
    decisive: DecisiveAgreement | None = None
    detail: str = ""


class GuardOutcome(BaseModel):
    """The ladder's record, kept in the manifest."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["passed", "recovered", "failed"]
    recovered_by: str | None = None
    tolerance: Tolerance
    attempts: list[GuardAttempt]
    final_config: dict[str, Any]

    def summary(self) -> str:
        """One line for reports."""
        if self.status == "passed":
            return "int8 guard: within tolerance at the first try"
        if self.status == "recovered":
            return f"int8 guard: collapse recovered by step '{self.recovered_by}'"
        tried = ", ".join(a.step for a in self.attempts if a.status != "skipped")
        return f"int8 guard: FAILED, no fallback within tolerance (tried {tried})"


def guarded_int8(
    parent: Evaluated, config: StaticInt8Config, tolerance: Tolerance | None = None
) -> tuple[PassResult, StepVerdict, GuardOutcome]:
    """Quantize ``parent`` and fall back along the ladder until int8 fidelity is within tolerance.

    Returns:
        The kept pass result (the passing one, else the last attempted), its verdict, the record.
    """
    tolerance = tolerance or tolerance_for("int8")
    quantizer = StaticInt8()
    attempts: list[GuardAttempt] = []
    current = config
    result, verdict = _attempt(quantizer, parent, current, tolerance, "initial", {}, attempts)
    if verdict.status == "passed":
        return result, verdict, _outcome("passed", None, tolerance, attempts, current)
    for step, changes, current in ladder_steps(config):
        if not changes:
            attempts.append(GuardAttempt(step=step, changes={}, status="skipped", detail="already in effect"))
            continue
        result, verdict = _attempt(quantizer, parent, current, tolerance, step, changes, attempts)
        if verdict.status == "passed":
            return result, verdict, _outcome("recovered", step, tolerance, attempts, current)
    return result, verdict, _outcome("failed", None, tolerance, attempts, current)


def _attempt(
    quantizer: StaticInt8, parent: Evaluated, config: StaticInt8Config, tolerance: Tolerance,
    step: str, changes: dict[str, Any], attempts: list[GuardAttempt],
) -> tuple[PassResult, StepVerdict]:  # fmt: skip
    result = quantizer.run(parent.artifact, config)
    verdict = verify_step(quantizer.name, "int8", parent, Evaluated(result.artifact, parent.inputs), tolerance)
    status = "passed" if verdict.status == "passed" else "failed"
    attempts.append(
        GuardAttempt(
            step=step,
            changes=changes,
            status=status,
            fidelity=verdict.fidelity,
            decisive=verdict.decisive,
            detail=verdict.detail,
        )  # fmt: skip
    )
    return result, verdict


def _outcome(status: Literal["passed", "recovered", "failed"], step: str | None, tolerance: Tolerance,
             attempts: list[GuardAttempt], config: StaticInt8Config) -> GuardOutcome:  # fmt: skip
    return GuardOutcome(status=status, recovered_by=step, tolerance=tolerance, attempts=attempts,
                        final_config=config.model_dump(mode="json"))  # fmt: skip
