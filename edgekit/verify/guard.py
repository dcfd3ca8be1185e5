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

:func:`accuracy_controlled_int8` walks the same ladder judged by *measured* top-1 on labelled data
(``optimize --max-drop``), with NNCF's accuracy control as the reference: per-channel → another
calibrator → first/last layers float → the most sensitive layers float (ranked by
:mod:`edgekit.verify.sensitivity`, reverted one more at a time), until the top-1 drop against the
float parent is at most ``max_drop`` percentage points. A rung is kept only when it lowers the
measured drop (else it is undone before the next); each rung's measured drop is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import onnx
from pydantic import BaseModel, ConfigDict, Field

from edgekit.errors import CalibrationError
from edgekit.fidelity import Fidelity
from edgekit.passes import PassResult, StaticInt8, StaticInt8Config
from edgekit.verify.checks import Evaluated, StepVerdict, verify_step
from edgekit.verify.sensitivity import layer_sensitivity
from edgekit.verify.tolerances import DecisiveAgreement, Tolerance, tolerance_for

_OTHER_CALIBRATOR = {"minmax": "percentile", "percentile": "minmax", "entropy": "minmax"}
LADDER: tuple[tuple[str, str, Callable[[StaticInt8Config], dict[str, Any]]], ...] = (
    ("per_channel", "per-channel weight scales", lambda c: {"per_channel": True}),
    ("calibrator", "another calibrator", lambda c: {"calibration_method": _OTHER_CALIBRATOR[c.calibration_method]}),
    ("first_last_float", "first and last weighted layers in float", lambda c: {"exclude_first_last": True}),
    ("depthwise_float", "depthwise convolutions in float", lambda c: {"exclude_depthwise": True}),
)


def ladder_steps(
    config: StaticInt8Config, unusable: set[str] | None = None
) -> Iterator[tuple[str, dict[str, Any], StaticInt8Config]]:
    """Walk the fallback ladder from ``config``, each rung adding to the ones before it.

    Yields ``(step, changes, config with every rung so far)``; empty ``changes`` means the rung was
    already in effect (a caller records it as skipped). The judge of each rung is the caller's; a step the
    caller adds to ``unusable`` before asking for the next (its build raised :class:`CalibrationError`) is not
    carried into later rungs.
    """
    unusable = set() if unusable is None else unusable
    current = config
    for step, _description, update in LADDER:
        changes = {k: v for k, v in update(current).items() if getattr(current, k) != v}
        candidate = current.model_copy(update=changes) if changes else current
        yield step, changes, candidate
        if step not in unusable:
            current = candidate


def unusable_attempt(step: str, changes: dict[str, Any], exc: CalibrationError) -> GuardAttempt:
    """The record of a rung whose int8 build could not run (its change is then left out of later rungs)."""
    return GuardAttempt(step=step, changes=changes, status="failed", detail=f"not built: {exc}")


class GuardAttempt(BaseModel):
    """One rung of the ladder: what changed, and whether it was within tolerance."""

    model_config = ConfigDict(extra="forbid")

    step: str
    changes: dict[str, Any]
    status: Literal["passed", "failed", "skipped"]
    fidelity: Fidelity | None = None
    decisive: DecisiveAgreement | None = None
    detail: str = ""
    top1_pct: float | None = Field(None, description="measured top-1 % on the labelled data (--max-drop)")
    drop_pct: float | None = Field(None, description="float parent's top-1 minus this top-1, in points")
    config: dict[str, Any] | None = Field(None, description="the full int8 config of this rung (--max-drop)")


class GuardOutcome(BaseModel):
    """The ladder's record, kept in the manifest."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["passed", "recovered", "failed"]
    recovered_by: str | None = None
    tolerance: Tolerance
    attempts: list[GuardAttempt]
    final_config: dict[str, Any]
    max_drop_pct: float | None = Field(None, description="the accuracy target (--max-drop), when judged by accuracy")
    reference_top1_pct: float | None = Field(None, description="measured top-1 % of the float parent")
    data: str | None = Field(None, description="the labelled images the top-1 figures were measured on")
    kept_step: str | None = Field(None, description="the attempt whose artifact was kept")

    def summary(self) -> str:
        """One line for reports."""
        if self.max_drop_pct is not None:
            kept = next(a for a in self.attempts if a.step == self.kept_step and a.drop_pct is not None)
            head = f"int8 accuracy control (max drop {self.max_drop_pct:g} pt)"
            if self.status == "failed":
                return f"{head}: FAILED, best drop {kept.drop_pct:.2f} pt at step '{kept.step}'"
            return f"{head}: met at step '{kept.step}', drop {kept.drop_pct:.2f} pt"
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
    built = config  # the configuration of the kept ``result``
    result, verdict = _attempt(quantizer, parent, built, tolerance, "initial", {}, attempts)
    if verdict.status == "passed":
        return result, verdict, _outcome("passed", None, tolerance, attempts, built)
    unusable: set[str] = set()
    for step, changes, candidate in ladder_steps(config, unusable):
        if not changes:
            attempts.append(GuardAttempt(step=step, changes={}, status="skipped", detail="already in effect"))
            continue
        try:
            result, verdict = _attempt(quantizer, parent, candidate, tolerance, step, changes, attempts)
        except CalibrationError as exc:
            attempts.append(unusable_attempt(step, changes, exc))
            unusable.add(step)
            continue
        built = candidate
        if verdict.status == "passed":
            return result, verdict, _outcome("recovered", step, tolerance, attempts, built)
    return result, verdict, _outcome("failed", None, tolerance, attempts, built)


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


AccuracyJudge = Callable[[onnx.ModelProto], float]  # a candidate graph -> its measured top-1 % on the labelled data
ACCURACY_LADDER = ("per_channel", "calibrator", "first_last_float")  # then sensitive_float
# Layers kept float one more at a time, at most this many (NNCF stops at its max_num_iterations).
MAX_SENSITIVE_LAYERS = 8


@dataclass(frozen=True)
class AccuracyTarget:
    """What ``--max-drop`` judges by: the float parent's top-1, the limit, the data, the ranking inputs."""

    judge: AccuracyJudge
    reference_top1_pct: float
    max_drop_pct: float
    data: str
    ranking_pixels: np.ndarray
    ranking_reference: np.ndarray  # the float parent's logits on ranking_pixels
    max_sensitive: int = MAX_SENSITIVE_LAYERS
    threads: int | None = None


@dataclass
class _Tried:
    result: PassResult
    verdict: StepVerdict
    config: StaticInt8Config
    step: str
    drop: float


def accuracy_controlled_int8(
    parent: Evaluated, config: StaticInt8Config, target: AccuracyTarget, tolerance: Tolerance | None = None
) -> tuple[PassResult, StepVerdict, GuardOutcome]:
    """Quantize ``parent`` and walk the ladder until the measured top-1 drop is at most ``target.max_drop_pct``.

    Returns:
        The kept pass result (the first within the target, else the smallest drop), its fidelity verdict
        against ``parent``, and the record with every rung's measured top-1 and drop.
    """
    tolerance = tolerance or tolerance_for("int8")
    quantizer = StaticInt8()
    attempts: list[GuardAttempt] = []

    def attempt(step: str, changes: dict[str, Any], candidate: StaticInt8Config) -> _Tried:
        result, verdict = _attempt(quantizer, parent, candidate, tolerance, step, changes, attempts)
        top1 = target.judge(result.artifact.model)
        measured = {"top1_pct": top1, "drop_pct": target.reference_top1_pct - top1,
                    "config": candidate.model_dump(mode="json")}  # fmt: skip
        attempts[-1] = attempts[-1].model_copy(update=measured)
        return _Tried(result, verdict, candidate, step, target.reference_top1_pct - top1)

    best = attempt("initial", {}, config)
    for step in (*ACCURACY_LADDER, "sensitive_float"):
        if best.drop <= target.max_drop_pct:
            break
        if step == "sensitive_float":
            best = _walk_sensitive(best, target, attempt)
            break
        update = next(u for name, _, u in LADDER if name == step)
        changes = {k: v for k, v in update(best.config).items() if getattr(best.config, k) != v}
        if not changes:
            attempts.append(GuardAttempt(step=step, changes={}, status="skipped", detail="already in effect"))
            continue
        try:
            tried = attempt(step, changes, best.config.model_copy(update=changes))
        except CalibrationError as exc:
            attempts.append(unusable_attempt(step, changes, exc))
            continue
        best = tried if tried.drop < best.drop else best  # a rung that does not lower the drop is undone
    met = best.drop <= target.max_drop_pct
    status: Literal["passed", "recovered", "failed"] = (
        ("passed" if best.step == "initial" else "recovered") if met else "failed"
    )
    outcome = GuardOutcome(
        status=status, recovered_by=best.step if status == "recovered" else None, tolerance=tolerance,
        attempts=attempts, final_config=best.config.model_dump(mode="json"), max_drop_pct=target.max_drop_pct,
        reference_top1_pct=target.reference_top1_pct, data=target.data, kept_step=best.step,
    )  # fmt: skip
    return best.result, best.verdict, outcome


def _walk_sensitive(best: _Tried, target: AccuracyTarget, attempt: Callable[..., _Tried]) -> _Tried:
    """Keep the most sensitive layers of ``best`` float, one more each time, until the drop is met."""
    ranked = layer_sensitivity(best.result.artifact.model, target.ranking_pixels, target.ranking_reference,
                               target.threads)  # fmt: skip
    base, kept = best.config, list(best.config.exclude_nodes)
    for layer in ranked[: target.max_sensitive]:
        if layer.node in kept:
            continue
        kept.append(layer.node)
        changes = {"exclude_nodes": tuple(kept)}
        tried = attempt(f"sensitive_float[{len(kept) - len(base.exclude_nodes)}]", changes,
                        base.model_copy(update=changes))  # fmt: skip
        best = tried if tried.drop < best.drop else best
        if best.drop <= target.max_drop_pct:
            break
    return best
