"""Browser check: start the dashboard on demo runs, load every page in headless Chromium,
and save a PNG of each under docs/img/.

Run it with ``python -m dashboard.screenshots [--out docs/img]`` (``make screenshots``).
Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package; nothing
is downloaded (Selenium Manager is switched off and the driver path is given). A page
counts as loaded when its own text has rendered, Streamlit has stopped running and every
chart has drawn: a fixed sleep would capture Streamlit's grey loading skeleton.
Exit code 0 when every page rendered, 1 when one did not (its PNG is still saved).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from dashboard._demo import CANDIDATE_ID, write_demo_runs
from dashboard.launch import build_command

log = logging.getLogger(__name__)

# (url path, query string, text that proves the page rendered, PNG name); the default
# page (Overview) lives at the root URL.
PAGES = [
    ("", f"run={CANDIDATE_ID}", "Evidence recorded by the gate", "overview.png"),
    ("bias", f"run={CANDIDATE_ID}", "Raw vs debiased", "bias.png"),
    ("retrieval", f"run={CANDIDATE_ID}", "Per-group disparity", "retrieval.png"),
    ("safety", f"run={CANDIDATE_ID}", "False positives by group", "safety.png"),
    ("redteam", f"run={CANDIDATE_ID}", "Flagged hubs", "redteam.png"),
    ("compare", f"run={CANDIDATE_ID}", "Regressions", "compare.png"),
    (
        "redteam",
        f"run={CANDIDATE_ID}&gate=asr-defended&check=pgd-image&metric=attack_success_rate",
        "Gate evidence",
        "gate-evidence.png",
    ),
]
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]
WIDTH = 1400

# True once Streamlit is idle, the page text is there and every chart has drawn.
_READY_JS = """
const text = document.body ? document.body.innerText : "";
const running = document.querySelector('[data-testid="stStatusWidget"]');
const charts = document.querySelectorAll('[data-testid="stVegaLiteChart"]').length;
const drawn = document.querySelectorAll(
  '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks'
).length;
const skeleton = document.querySelector('[data-testid="stSkeleton"]');
return text.includes(arguments[0]) && !running && !skeleton && drawn >= charts;
"""
_HEIGHT_JS = """
const main = document.querySelector('[data-testid="stMain"]') || document.body;
return Math.max(main.scrollHeight, document.body.scrollHeight);
"""


def _compress(path: Path) -> None:
    # A 256-colour palette keeps text sharp and makes the PNGs about 3x smaller for git.
    from PIL import Image

    with Image.open(path) as im:
        pal = im.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
    pal.save(path, optimize=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"dashboard at {base} did not answer within {timeout:.0f} s")


def _driver(
    chromium: str, chromedriver: str, *, width: int = WIDTH, logs: dict[str, str] | None = None
):  # -> selenium WebDriver
    """Headless Chromium at ``width`` px; ``logs`` sets ``goog:loggingPrefs`` (the report
    check reads the performance and browser logs)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--window-size={width},1000")
    if logs is not None:
        opts.set_capability("goog:loggingPrefs", logs)
    return webdriver.Chrome(options=opts, service=Service(executable_path=chromedriver))


def capture(
    out_dir: Path,
    *,
    chromium: str = "/usr/bin/chromium",
    chromedriver: str = "/usr/bin/chromedriver",
    timeout: float = 60.0,
) -> dict[str, bool]:
    """Start the app on demo runs and screenshot every page.

    Parameters
    ----------
    out_dir : Path
        Where the PNGs go (created if missing).
    chromium, chromedriver : str
        Browser and driver executables.
    timeout : float
        Seconds to wait for the server and for each page.

    Returns
    -------
    dict
        PNG name to whether the page rendered in time.
    """
    from selenium.webdriver.support.ui import WebDriverWait

    out_dir.mkdir(parents=True, exist_ok=True)
    rendered: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="mme-dashboard-") as tmp:
        runs = Path(tmp) / "runs"
        write_demo_runs(runs)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "streamlit.log"
        with log_path.open("wb") as server_log:
            proc = subprocess.Popen(
                build_command(runs, port=port), stdout=server_log, stderr=subprocess.STDOUT
            )
            driver = None
            try:
                _wait_healthy(base, proc, timeout)
                driver = _driver(chromium, chromedriver)
                for url, query, marker, name in PAGES:
                    driver.set_window_size(WIDTH, 1000)
                    driver.get(f"{base}/{url}?{query}")
                    try:
                        WebDriverWait(driver, timeout, poll_frequency=0.25).until(
                            lambda d, m=marker: d.execute_script(_READY_JS, m)
                        )
                        rendered[name] = True
                    except Exception:  # a timeout still saves what was there, for a look
                        log.error("%s: page did not render %r in %.0f s", name, marker, timeout)
                        rendered[name] = False
                    height = int(driver.execute_script(_HEIGHT_JS))
                    driver.set_window_size(WIDTH, min(max(height + 80, 800), 6000))
                    time.sleep(0.8)  # charts re-lay out after the resize
                    driver.save_screenshot(str(out_dir / name))
                    _compress(out_dir / name)
                    log.info("saved %s (%d px high)", out_dir / name, height)
            finally:
                if driver is not None:
                    driver.quit()
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if not all(rendered.values()):
            log.error("server log:\n%s", log_path.read_text(errors="replace")[-4000:])
    return rendered


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m dashboard.screenshots [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img"), help="PNG folder")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    t0 = time.perf_counter()
    rendered = capture(
        args.out, chromium=args.chromium, chromedriver=args.chromedriver, timeout=args.timeout
    )
    ok = sum(rendered.values())
    log.info("%d/%d pages rendered in %.1f s", ok, len(rendered), time.perf_counter() - t0)
    return 0 if rendered and ok == len(rendered) else 1


if __name__ == "__main__":
    sys.exit(main())
