import pytest
from pydantic import ValidationError

from edgekit.metrics import Interval, Metric, Provenance, computed, published


def test_each_kind_requires_its_evidence() -> None:
    with pytest.raises(ValidationError, match="published provenance needs citation"):
        Provenance(kind="published")
    with pytest.raises(ValidationError, match="measured provenance needs host, tool_versions, n_samples"):
        Provenance(kind="measured")
    with pytest.raises(ValidationError, match="predicted provenance needs predictor, interval"):
        Provenance(kind="predicted")
    with pytest.raises(ValidationError, match="computed provenance needs method"):
        Provenance(kind="computed")


def test_metric_formats_value_unit_and_kind() -> None:
    metric = published("top1_pct", 69.758, "%", "https://example.org/recipe")
    assert metric.format() == "69.8 % (published)"
    assert computed("macs_giga", 1.814, "GMAC", "edgekit.analyze@1").format(4) == "1.814 GMAC (computed)"


def test_predicted_metric_carries_an_ordered_interval() -> None:
    with pytest.raises(ValidationError, match="interval low 2.0 exceeds high 1.0"):
        Interval(low=2.0, high=1.0)
    provenance = Provenance(kind="predicted", predictor="p@1", interval=Interval(low=1.0, high=3.0))
    metric = Metric(name="latency_ms", value=2.0, unit="ms", provenance=provenance)
    assert metric.provenance.interval.high == 3.0


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Metric(name="x", value=1, unit="ms", provenance=Provenance(kind="computed", method="m"), colour="red")
