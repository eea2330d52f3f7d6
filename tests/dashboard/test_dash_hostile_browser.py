"""In Chromium: a run whose every string is hostile fetches nothing and shows as text.

The real server (``build_command``, as ``audit dashboard`` starts it) serves the hostile
runs of hostile_run.py; headless Chromium opens every page (and a gate-evidence link whose
query parameters are hostile too). Two independent records of what the browser asked for:

* Chromium's performance log (``Network.requestWillBeSent``, ``webSocketCreated``): every
  URL must be the app's own origin (or ``data:``/``blob:``);
* a loopback logger set as Chromium's proxy: any request for another host goes to it
  (so nothing can leave the machine), and it must receive none.

The page text must hold the hostile strings as written, and the DOM no element that
Streamlit's Markdown extensions make (KaTeX, coloured text, badges, icons, the logo).
Needs Debian's chromium and chromium-driver: `.ci/run` installs them; CI sets
MME_REQUIRE_BROWSER=1, which turns a missing browser into a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import socketserver
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_run import CHECK, COMP, GATE, OUTSIDE, RUN, SUB, payload, write_hostile_runs

pytest.importorskip("selenium")

from dashboard.launch import build_command
from dashboard.screenshots import _READY_JS, _free_port, _wait_healthy

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
REQUIRED = os.environ.get("MME_REQUIRE_BROWSER") == "1"
# Created by Streamlit's Markdown extensions; none may appear for report strings.
EXTENSIONS_JS = """
return Array.from(document.querySelectorAll(
  '.katex, .stMarkdownColoredText, .stMarkdownColoredBackground, .stMarkdownBadge, ' +
  'img[alt="Streamlit logo"], [data-testid="stMarkdownContainer"] span[role="img"], ' +
  '[data-testid="stMarkdownContainer"] img, ' +
  '[data-testid="stMarkdownContainer"] a:not([href^="#"])'  // headings' own anchor links
)).map(e => e.outerHTML.slice(0, 300));
"""


class _Recorder(socketserver.StreamRequestHandler):
    """A proxy that forwards nothing: it records the request line and answers 403."""

    def handle(self) -> None:
        line = self.rfile.readline(8192).decode("latin-1").strip()
        self.server.seen.append(line)  # type: ignore[attr-defined]
        self.wfile.write(
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )


@pytest.fixture
def proxy_log() -> Iterator[tuple[int, list[str]]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Recorder)
    server.daemon_threads = True
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], server.seen  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def _driver(proxy_port: int, profile: Path):  # -> selenium WebDriver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not download anything
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-sync",
        f"--user-data-dir={profile}",
        # Every request for another host goes to the recorder (loopback stays direct).
        f"--proxy-server=http://127.0.0.1:{proxy_port}",
        "--window-size=1400,1000",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(options=opts, service=Service(executable_path=str(CHROMEDRIVER)))


def _requested_urls(driver) -> list[str]:
    """Every URL in the performance log: requests, redirects and WebSockets."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        params = msg.get("params", {})
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(params["request"]["url"])
        elif msg["method"] == "Network.webSocketCreated":
            urls.append(params["url"])
    return urls


def _pages() -> list[tuple[str, dict[str, str], str, list[str]]]:
    """(url path, query, text that proves it rendered, hostile strings it must show)."""
    run, nested = {"run": RUN}, {"run": f"{COMP}/{SUB}"}
    evidence = {"run": RUN, "gate": GATE, "check": CHECK, "metric": "effect_size"}
    return [
        ("", run, "Evidence recorded by the gate", [RUN, GATE, payload("gatemsg")]),
        ("bias", run, "Effect sizes", [payload("spec"), payload("name"), payload("created")]),
        ("bias", evidence, "Gate evidence", [f"gate {GATE}: check {CHECK}"]),
        ("retrieval", run, "By modality pair and size", [RUN]),
        ("safety", run, "Filter performance by category", [RUN]),
        ("redteam", run, "Adversarial examples", [payload("artlabel"), payload("redteam-art")]),
        ("compare", nested, "Embedders side by side", [COMP, payload("note"), payload("label")]),
        ("", nested, "Runs", [f"{COMP}/{SUB}", payload("error0")]),
    ]


@pytest.mark.slow
def test_hostile_run_fetches_nothing_outside_and_shows_text(
    tmp_path: Path, proxy_log: tuple[int, list[str]]
) -> None:
    if not (CHROMIUM and CHROMEDRIVER):
        msg = "needs Debian chromium + chromium-driver (apt-get install chromium chromium-driver)"
        if REQUIRED:
            pytest.fail(f"MME_REQUIRE_BROWSER=1 but {msg}")
        pytest.skip(msg)
    from selenium.webdriver.support.ui import WebDriverWait

    proxy_port, proxied = proxy_log
    runs = write_hostile_runs(tmp_path / "runs")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    allowed = (f"{base}/", f"ws://127.0.0.1:{port}/", "data:", "blob:", "about:")
    with (tmp_path / "streamlit.log").open("wb") as server_log:
        proc = subprocess.Popen(
            build_command(runs, port=port), stdout=server_log, stderr=subprocess.STDOUT
        )
        driver = None
        try:
            _wait_healthy(base, proc, 90)
            driver = _driver(proxy_port, tmp_path / "profile")
            driver.get("about:blank")
            driver.get_log("performance")  # drop the start-up tab's (chrome://) entries
            for path, query, marker, wanted in _pages():
                url = f"{base}/{path}?{urllib.parse.urlencode(query)}"
                driver.get(url)
                WebDriverWait(driver, 90, poll_frequency=0.25).until(
                    lambda d, m=marker: d.execute_script(_READY_JS, m)
                )
                time.sleep(1.0)  # late requests (images, fonts) still land in the log
                text = driver.execute_script("return document.body.innerText").replace("\u2060", "")
                # What was requested first: the log, and the recorder (every other host).
                outside = [u for u in _requested_urls(driver) if not u.startswith(allowed)]
                assert outside == [], (path, query)
                assert [line for line in proxied if OUTSIDE in line] == [], (path, query)
                for s in wanted:
                    assert s in text, (path, query, s[:50])
                assert driver.execute_script(EXTENSIONS_JS) == [], (path, query)
                html = driver.page_source
                assert f'src="http://{OUTSIDE}' not in html
                assert f'href="http://{OUTSIDE}' not in html
        finally:
            if driver is not None:
                driver.quit()
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    # The recorder saw every request for another host (Chromium's own background calls
    # included, which it refused): none was for the address in the report strings.
    assert [line for line in proxied if OUTSIDE in line] == [], proxied
