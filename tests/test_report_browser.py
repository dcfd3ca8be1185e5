"""report.html rendered by a real browser (headless chromium): sent alone, the plot still shows."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgekit import report
from edgekit.compare import Comparison
from tests.test_report import comparison  # noqa: F401  (the fixture)

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
WINDOW = (1400, 2400)  # the plot is 1320 px wide; the page fits this window
TAB10_BLUE = np.array([31, 119, 180])  # matplotlib's first colour: the first runtime's points
COLOUR_TOLERANCE = 40  # per-channel distance still counted as that colour (anti-aliasing)
MIN_BLUE_PIXELS = 40  # a few point outlines and the legend marker; none when the image is missing
MIN_PLOT_STD = 20.0  # grey levels: a drawn plot (grid, text, points) varies, a blank box does not
BROWSER_SECONDS = 120


def _browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@pytest.mark.skipif(_browser() is None, reason="no chromium binary found (apt-get install -y chromium; .ci/run does)")
def test_report_html_alone_renders_its_plot_in_headless_chromium(comparison: Comparison, tmp_path: Path) -> None:  # noqa: F811
    # setup: write the report, then send report.html alone to another folder
    files = report.write_report(comparison, tmp_path / "out")
    alone = tmp_path / "sent" / "report.html"
    alone.parent.mkdir()
    shutil.copyfile(files.html, alone)
    shot = tmp_path / "shot.png"
    # execute
    command = [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
               f"--window-size={WINDOW[0]},{WINDOW[1]}", alone.as_uri()]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=BROWSER_SECONDS,
                   env={**os.environ, "HOME": str(tmp_path)})  # fmt: skip
    # assert: the window's size, and the embedded plot decoded and drawn
    image = Image.open(shot).convert("RGB")
    assert image.size == WINDOW
    pixels = np.asarray(image).astype(int)
    blue = np.all(np.abs(pixels - TAB10_BLUE) <= COLOUR_TOLERANCE, axis=2)
    assert blue.sum() >= MIN_BLUE_PIXELS, "no plot colours on the page: the embedded image did not render"
    rows = np.nonzero(blue.any(axis=1))[0]
    band = pixels[max(rows.min() - 50, 0) : rows.max() + 50]  # around the points: the plot area
    assert band.std() > MIN_PLOT_STD
    non_white = np.any(band < 250, axis=2).mean()
    assert 0.02 < non_white < 0.9  # drawn on, but not a solid block
