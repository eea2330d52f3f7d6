"""In Chromium: ``/overview`` serves the Overview page (issue 18), not "Page not found".

Streamlit serves its default page at the root URL only, so the Overview's own path used
to answer "Page not found"; the app now also serves it at ``/overview``. AppTest cannot
open a URL path, so this test starts the real server (``build_command``, as
``audit dashboard`` does) and loads the paths in headless Chromium. Needs Debian's
chromium and chromium-driver; CI sets MME_REQUIRE_BROWSER=1, which turns a missing
browser into a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from issue18_runs import write_issue18_runs

pytest.importorskip("selenium")

from dashboard.launch import build_command
from dashboard.screenshots import _READY_JS, _driver, _free_port, _wait_healthy

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
REQUIRED = os.environ.get("MME_REQUIRE_BROWSER") == "1"


@pytest.mark.slow
def test_overview_answers_at_its_own_path(tmp_path: Path) -> None:
    if not (CHROMIUM and CHROMEDRIVER):
        msg = "needs Debian chromium + chromium-driver (apt-get install chromium chromium-driver)"
        if REQUIRED:
            pytest.fail(f"MME_REQUIRE_BROWSER=1 but {msg}")
        pytest.skip(msg)
    from selenium.webdriver.support.ui import WebDriverWait

    runs = write_issue18_runs(tmp_path / "runs")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "streamlit.log").open("wb") as log:
        proc = subprocess.Popen(build_command(runs, port=port), stdout=log, stderr=log)
        driver = None
        try:
            _wait_healthy(base, proc, 90)
            driver = _driver(CHROMIUM, CHROMEDRIVER)
            seen = {}
            for path in ("overview", "", "bias"):
                driver.get(f"{base}/{path}")
                # "Gates" is the Overview's own subheader; Bias shows "Effect sizes".
                marker = "Effect sizes" if path == "bias" else "Gates"
                WebDriverWait(driver, 90, poll_frequency=0.25).until(
                    lambda d, m=marker: d.execute_script(_READY_JS, m)
                )
                seen[path] = driver.execute_script("return document.body.innerText")
        finally:
            if driver is not None:
                driver.quit()
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    for path, text in seen.items():
        assert "Page not found" not in text, path
    # The same page at both addresses: its title and the newest run's name.
    for path in ("overview", ""):
        assert "Overview" in seen[path] and "Run r5-safety" in seen[path], path
