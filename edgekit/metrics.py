"""The one number type: a value with a unit and where it came from.

Every figure edgekit reports is a :class:`Metric`. Its :class:`Provenance` says whether it was
*measured* (on which host, with which tools, how many samples), *published* (with a citation),
*computed* exactly from a graph (by which analyzer, from which file), or *predicted* (by which
predictor, with an interval).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ProvenanceKind = Literal["measured", "published", "computed", "predicted"]

# Fields each kind must carry, so that a number cannot be reported without its evidence.
_REQUIRED_EVIDENCE: dict[str, tuple[str, ...]] = {
    "measured": ("host", "tool_versions", "n_samples"),
    "published": ("citation",),
    "computed": ("method",),
    "predicted": ("predictor", "interval"),
}


class Interval(BaseModel):
    """A closed interval ``[low, high]`` around a predicted value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: float
    high: float
    coverage: float | None = Field(None, description="fraction of validation rows it covered")

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.low > self.high:
            raise ValueError(f"interval low {self.low} exceeds high {self.high}")
        return self


class Provenance(BaseModel):
    """Where a number came from. Which fields are mandatory depends on ``kind``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ProvenanceKind
    # measured: who, where, how
    host: str | None = Field(None, description="host fingerprint id (see edgekit.bench.fingerprint)")
    runtime: str | None = Field(None, description="e.g. onnxruntime-cpu")
    device_profile: str | None = Field(None, description="profiles/<id>.yaml")
    tool_versions: dict[str, str] | None = None
    n_samples: int | None = None
    run_id: str | None = None
    timestamp: datetime | None = None
    # published: where from
    citation: str | None = Field(None, description="URL or reference of the source")
    # computed: how, from what
    method: str | None = Field(None, description="e.g. edgekit.analyze@1 over sha256:…")
    # predicted: by what
    predictor: str | None = Field(None, description="predictor name@version and inputs digest")
    interval: Interval | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _evidence_present(self) -> Provenance:
        missing = [f for f in _REQUIRED_EVIDENCE[self.kind] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"{self.kind} provenance needs {', '.join(missing)}")
        return self

    def label(self) -> str:
        """A short human label, e.g. ``measured, onnxruntime-cpu`` or ``published``."""
        detail = self.runtime or self.device_profile
        return f"{self.kind}, {detail}" if detail else self.kind


class Metric(BaseModel):
    """A named value with its unit and provenance, e.g. ``latency_ms_p50 = 4.9 ms (measured)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="snake_case with the unit in it, e.g. latency_ms_p50")
    value: float
    unit: str
    provenance: Provenance

    def format(self, digits: int = 3) -> str:
        """Render as ``value unit (kind)``, e.g. ``1.81 GMAC (computed)``."""
        return f"{self.value:.{digits}g} {self.unit} ({self.provenance.label()})"


def published(name: str, value: float, unit: str, citation: str, note: str | None = None) -> Metric:
    """Build a *published* metric."""
    return Metric(
        name=name,
        value=value,
        unit=unit,
        provenance=Provenance(kind="published", citation=citation, note=note),
    )


def computed(name: str, value: float, unit: str, method: str) -> Metric:
    """Build a *computed* metric (exact, derived from a graph or a file)."""
    return Metric(name=name, value=value, unit=unit, provenance=Provenance(kind="computed", method=method))
