"""Benchmark input pixels: seeded standard-normal float32, what normalized images look like to a network.

Portable: numpy only; shipped verbatim to boards (see :mod:`edgekit.devices.bundle`), so a board is fed
the very bytes this machine is. Seeded so that two runs feed identical bytes (data-dependent kernels then
behave the same).
"""

from __future__ import annotations

import numpy as np

BENCH_INPUT_SEED = 0


def random_pixels(shape: tuple[int, ...]) -> np.ndarray:
    """Seeded standard-normal float32 pixels of ``shape``."""
    return np.random.default_rng(BENCH_INPUT_SEED).standard_normal(shape, dtype=np.float32)
