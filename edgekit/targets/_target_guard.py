"""The int8 guard, judged on the target's runtime.

``edgekit optimize``'s guard judges int8 on the QDQ graph as written (onnxruntime, optimizations
off). A vendor runtime can still run a valid QDQ file far from fp32 (OpenVINO on this AVX2 host
ran random-init mobilenet_v2's int8 classifier at logit cosine 0.93). When the converted
artifact fails its gated parity, this walks the same fallback ladder (edgekit.verify.guard.LADDER),
re-quantizing and re-converting until the target's runtime is within tolerance, and records
which rung recovered it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from edgekit.errors import CalibrationError
from edgekit.passes import StaticInt8Config
from edgekit.targets._build import Built
from edgekit.targets._parity import ParityVerdict
from edgekit.verify.guard import ladder_steps


class TargetGuardAttempt(BaseModel):
    """One rung: the config changes and the target-runtime verdict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str
    changes: dict[str, Any]
    status: Literal["passed", "failed", "skipped"]
    detail: str = ""


class TargetGuard(BaseModel):
    """The ladder's record on the target's runtime."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["recovered", "failed"]
    recovered_by: str | None = None
    attempts: list[TargetGuardAttempt]

    def summary(self) -> str:
        """One line for reports."""
        if self.status == "recovered":
            return f"target int8 guard: recovered on the target runtime by step '{self.recovered_by}'"
        tried = ", ".join(a.step for a in self.attempts if a.status != "skipped")
        return f"target int8 guard: FAILED on the target runtime (tried {tried})"


def _detail(verification: ParityVerdict) -> str:
    gated = [c for c in verification.checks if c.gated]
    return "; ".join(c.detail for c in gated) or (verification.reason or "")


def guard_on_target(
    attempt: Callable[[Built], ParityVerdict], built: Built
) -> tuple[Built, ParityVerdict, TargetGuard | None]:
    """Verify ``built``; on a failed int8 parity, walk the ladder with ``built.requantize``.

    Args:
        attempt: stages one build (pre-flight, convert, run) and returns its verification.
        built: the first build.

    Returns:
        The kept build, its verification, and the ladder's record (None when it was not needed).
    """
    verification = attempt(built)
    if verification.status != "failed" or built.requantize is None or built.quant_config is None:
        return built, verification, None
    first = StaticInt8Config.model_validate(built.quant_config)
    attempts = [TargetGuardAttempt(step="initial", changes={}, status="failed", detail=_detail(verification))]
    unusable: set[str] = set()
    for step, changes, current in ladder_steps(first, unusable):
        if not changes:
            attempts.append(TargetGuardAttempt(step=step, changes={}, status="skipped", detail="already in effect"))
            continue
        try:
            rebuilt = built.requantize(current.model_dump(mode="json"))
        except CalibrationError as exc:  # this rung cannot be built; later rungs leave its change out
            attempts.append(TargetGuardAttempt(step=step, changes=changes, status="failed", detail=f"not built: {exc}"))
            unusable.add(step)
            continue
        built = rebuilt
        verification = attempt(built)
        status = "failed" if verification.status == "failed" else "passed"
        attempts.append(TargetGuardAttempt(step=step, changes=changes, status=status, detail=_detail(verification)))
        if status == "passed":
            return built, verification, TargetGuard(status="recovered", recovered_by=step, attempts=attempts)
    return built, verification, TargetGuard(status="failed", attempts=attempts)
