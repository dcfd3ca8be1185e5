"""What-if: the leave-one-device-out score if the Hexagon NPUs had a stated throughput.

No source in ../shared/data (or found here) states the NPU throughput of the QCS6490, Snapdragon 8 Gen 2
or 8 Gen 3, so their profiles carry none and the predictor costs all three at one stand-in peak: their
level can only come from each other. This script puts hypothetical int8 peaks (TOPS) on those three
units in memory — the shipped profiles are not touched — and prints the leave-one-device-out median
|error| with and without them. It measures how much of the gap to the 25 % target is this missing
fact; its figures are hypothetical and never feed the shipped parameters.

Usage:
    .venv/bin/python benchmarks/npu_throughput_whatif.py QCS6490_TOPS GEN2_TOPS GEN3_TOPS
    .venv/bin/python benchmarks/npu_throughput_whatif.py 12 48 95
"""

from __future__ import annotations

import argparse

from edgekit.predict._params import Hyper
from edgekit.predict._validate import cross_validate, folds, median_abs_pct, prepare
from edgekit.profiles import DeviceProfile, Sourced, load_profiles

HEXAGON_DEVICES = ("qcs6490", "snapdragon-8-gen-2", "snapdragon-8-gen-3")


def with_npu_peak(profile: DeviceProfile, tops: float) -> DeviceProfile:
    """The profile with a hypothetical int8 peak on its NPU."""
    peak = Sourced(value=tops * 1000, kind="estimated", source="what-if", note="hypothetical, not a published figure")
    accelerators = [
        a.model_copy(update={"peak_gops_int8": peak}) if a.kind == "npu" else a for a in profile.accelerators
    ]
    return profile.model_copy(update={"accelerators": accelerators})


def lodo_median(hyper: Hyper, profiles: dict[str, DeviceProfile]) -> tuple[float, int]:
    """Leave-one-device-out median |error| % over every calibration row, and the row count."""
    design, _, _ = prepare(hyper, profiles=profiles)
    residuals = cross_validate(design, hyper, folds(design)["leave-one-device-out"], "lodo")
    return median_abs_pct([r.log_ratio for r in residuals]), len(residuals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for device in HEXAGON_DEVICES:
        parser.add_argument(device.replace("-", "_"), type=float, help=f"hypothetical {device} NPU int8 TOPS")
    args = parser.parse_args()
    tops = {device: getattr(args, device.replace("-", "_")) for device in HEXAGON_DEVICES}
    hyper, shipped = Hyper(), load_profiles()
    patched = shipped | {device: with_npu_peak(shipped[device], value) for device, value in tops.items()}
    base, n = lodo_median(hyper, shipped)
    what_if, _ = lodo_median(hyper, patched)
    stated = ", ".join(f"{device} {value:g}" for device, value in tops.items())
    print(f"leave-one-device-out median |error| over {n} rows: shipped profiles {base:.1f}%; "
          f"with hypothetical NPU int8 TOPS ({stated}) {what_if:.1f}%")  # fmt: skip


if __name__ == "__main__":
    main()
