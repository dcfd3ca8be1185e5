"""The calibration data: published latencies shipped in ``edgekit/data/published/``.

A copy of ``published-latency.csv`` and ``device-specs.csv`` with their README (citations and
caveats) ships in the package so a clean clone can refit and validate the predictor.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from edgekit.errors import BadInputError
from edgekit.predict._coords import Coordinates, coordinates_from_row
from edgekit.profiles import DeviceProfile, PowerMode

PUBLISHED_DIR = Path(__file__).resolve().parents[1] / "data" / "published"
LATENCY_CSV = PUBLISHED_DIR / "published-latency.csv"
DEVICE_SPECS_CSV = PUBLISHED_DIR / "device-specs.csv"


@dataclass(frozen=True)
class CalibrationRow:
    """One usable published latency."""

    coords: Coordinates
    latency_ms: float
    source_key: str
    line: int
    board: str = ""
    variant_gmacs: float | None = None  # MACs of the graph actually measured, when it differs from torchvision's

    def reference_latency_ms(self, profile: DeviceProfile) -> float:
        """The latency at the profile's reference clocks: a row measured in a named power mode
        (its board column names the mode, e.g. "MAXN_SUPER 25W") is scaled by that mode's clock."""
        mode = power_mode_named_in(self.board, profile)
        return self.latency_ms * (mode.clock_scale.value if mode else 1.0)


_VARIANT_GMACS = re.compile(r"(\d+\.\d+)(?: GMACs[^)v]*)? vs \d+\.\d+")


def variant_gmacs(model_variant: str) -> float | None:
    """The published MACs of a benchmark's own graph, from a ``model_variant`` note such as
    "Caffe ResNet-50 v1 (stride 2 on the 1x1 conv; 3.86 vs 4.09 GMACs for torchvision v1.5)" (None if not stated)."""
    if "GMACs" not in model_variant:
        return None
    match = _VARIANT_GMACS.search(model_variant)
    return float(match.group(1)) if match else None


def power_mode_named_in(text: str, profile: DeviceProfile) -> PowerMode | None:
    """The profile's power mode whose name appears as a whole token in ``text`` (None if none does)."""
    tokens = {t.lower() for t in re.split(r"[^A-Za-z0-9_]+", text) if t}
    return next((m for m in profile.power_modes if m.name.lower() in tokens), None)


def source_key(source: str) -> str:
    """Group a citation by publisher: ``github.com/Tencent/ncnn``, ``coral.ai`` and so on."""
    url = source.split()[0] if source.strip() else ""
    parsed = urlparse(url)
    if not parsed.netloc:
        return source.strip()[:40] or "unknown"
    parts = [p for p in parsed.path.split("/") if p]
    return "/".join([parsed.netloc, *parts[:2]]) if parsed.netloc == "github.com" else parsed.netloc


def load_calibration(path: Path = LATENCY_CSV, devices: set[str] | None = None) -> tuple[list[CalibrationRow], int]:
    """Rows usable for fitting: not ``excluded``, and (when ``devices`` is given) on a profiled device.

    Returns:
        (rows, number of rows skipped because their device has no profile).

    Raises:
        BadInputError: the file is missing or a row is malformed.
    """
    if not path.is_file():
        raise BadInputError(f"calibration file {path} not found")
    rows, skipped = [], 0
    with open(path, newline="") as handle:
        for line, raw in enumerate(csv.DictReader(handle), start=2):
            if raw.get("excluded", "0").strip() == "1":
                continue
            if devices is not None and raw["device_id"] not in devices:
                skipped += 1
                continue
            coords = coordinates_from_row(raw, f"{path.name} line {line}")
            source = source_key(raw.get("source", ""))
            board, variant = raw.get("board", "").strip(), raw.get("model_variant", "")
            rows.append(CalibrationRow(coords, float(raw["latency_ms"]), source, line, board, variant_gmacs(variant)))
    return rows, skipped
