"""The browser check: the real server, headless Chromium, every page rendered.

Skipped where Debian's chromium/chromium-driver or selenium are not installed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("selenium")
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.mark.slow
@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs chromium + chromium-driver")
def test_every_page_renders_in_chromium(tmp_path: Path) -> None:
    from dashboard.screenshots import PAGES, capture

    rendered = capture(tmp_path, chromium=str(CHROMIUM), chromedriver=str(CHROMEDRIVER))
    assert rendered == {name: True for *_, name in PAGES}
    for *_, name in PAGES:
        img = np.asarray(Image.open(tmp_path / name).convert("L"), dtype=float)
        assert img.shape[0] >= 800 and img.shape[1] == 1400
        # A rendered page has text and charts, not a blank or skeleton screen.
        assert img.std() > 10
