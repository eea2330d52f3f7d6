"""Browser check of an audit report: open report.html from disk in headless Chromium,
prove it fetches nothing and logs no error, and save a PNG of page one and of each section.

Run it with ``python -m dashboard.report_screenshots RUN_DIR [--out docs/img/report]``
(RUN_DIR holds report.html, written at the end of every run or by ``audit report``; a path
to an .html file works too). Two checks, read from Chromium's own logs:

- every request the page made (``Network.requestWillBeSent`` and ``webSocketCreated`` in
  the performance log) is for a ``file:`` or ``data:`` URL: nothing leaves the file;
- the browser log has no ``SEVERE`` entry (console errors, failed loads, CSP refusals).

The page must also hold no ``<script>`` element. Screenshots: ``page-one.png`` (the
``<header id="page-one">``) and ``<section id>.png`` for each ``<section id=...>``, each
captured whole (beyond the window), so a section taller than the window is not cut. Needs Debian's
``chromium`` and ``chromium-driver`` and the ``selenium`` package (nothing is downloaded).
``--pdf FILE`` also prints the report as a browser's "Print to PDF" does (A4).
Exit code 0 when every check passed, 1 when one failed, 2 when there is no report.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.screenshots import _compress
from dashboard.screenshots import _driver as dashboard_driver

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
WIDTH = 1100  # about an A4 page at 96 dpi plus margins: what a printout shows
#: URL schemes a self-contained report may load (itself and its inline images).
LOCAL_SCHEMES = ("file:", "data:", "about:")

# Elements to capture: page one, then every section in page order.
_BOXES_JS = """
const out = [];
const one = document.getElementById('page-one');
if (one) out.push(['page-one', one]);
for (const s of document.querySelectorAll('section[id]')) out.push([s.id, s]);
return out.map(([id, el]) => {
  const r = el.getBoundingClientRect();
  return {id: id, x: r.left + window.scrollX, y: r.top + window.scrollY,
          width: r.width, height: r.height};
});
"""


@dataclass
class BrowserCheck:
    """What the browser saw: requests, console errors, script elements, PNGs saved."""

    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    scripts: int = 0
    screenshots: list[Path] = field(default_factory=list)
    pdf: Path | None = None

    @property
    def ok(self) -> bool:
        """True when nothing left the file, nothing errored and the page has no script."""
        return not self.outside and not self.errors and not self.scripts


def _driver(chromium: str, chromedriver: str):  # -> selenium WebDriver
    # the dashboard's offline driver, at a printed page's width, with the logs the checks read
    return dashboard_driver(
        chromium, chromedriver, width=WIDTH, logs={"performance": "ALL", "browser": "ALL"}
    )


def _requests(perf_log: list[dict]) -> list[str]:
    urls = []
    for entry in perf_log:
        msg = json.loads(entry["message"])["message"]
        params = msg.get("params", {})
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(params["request"]["url"])
        elif msg.get("method") == "Network.webSocketCreated":
            urls.append(params["url"])
    return urls


def check_report(
    html: Path,
    out_dir: Path | None,
    *,
    chromium: str = "/usr/bin/chromium",
    chromedriver: str = "/usr/bin/chromedriver",
    pdf: Path | None = None,
) -> BrowserCheck:
    """Open ``html`` (``file://``) in headless Chromium, check it, and save screenshots.

    Parameters
    ----------
    html : Path
        The report file.
    out_dir : Path or None
        Where ``page-one.png`` and ``<section>.png`` go (created); None: no PNGs, checks
        only.
    chromium, chromedriver : str
        Browser and driver executables.
    pdf : Path or None
        Also print the page to this PDF, as a reviewer's "Print to PDF" would (A4, the
        report's ``@media print`` rules, backgrounds on).

    Returns
    -------
    BrowserCheck
        The requests made (and those that were not local), console errors, ``<script>``
        count and the PNGs written.
    """
    result = BrowserCheck()
    driver = _driver(chromium, chromedriver)
    try:
        driver.get(html.resolve().as_uri())  # returns once the load event fired
        boxes = driver.execute_script(_BOXES_JS)
        shots: list[tuple[str, bytes]] = []
        if out_dir is not None:
            for box in boxes:
                if box["width"] < 1 or box["height"] < 1:
                    continue
                # Each element captured whole, beyond the window: no scrolling, so a
                # section taller than the window is neither cut nor stitched.
                shot = driver.execute_cdp_cmd(
                    "Page.captureScreenshot",
                    {
                        "format": "png",
                        "captureBeyondViewport": True,
                        "clip": {k: box[k] for k in ("x", "y", "width", "height")} | {"scale": 1},
                    },
                )
                shots.append((box["id"], base64.b64decode(shot["data"])))
        if pdf is not None:
            printed = driver.execute_cdp_cmd(
                "Page.printToPDF",
                {"printBackground": True, "paperWidth": 8.27, "paperHeight": 11.69},
            )
            pdf.parent.mkdir(parents=True, exist_ok=True)
            pdf.write_bytes(base64.b64decode(printed["data"]))
            result.pdf = pdf
        result.scripts = int(driver.execute_script("return document.scripts.length;"))
        time.sleep(0.2)  # let late log entries arrive before reading the logs
        result.requests = _requests(driver.get_log("performance"))
        result.errors = [
            e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"
        ]
    finally:
        driver.quit()
    result.outside = [u for u in result.requests if not u.startswith(LOCAL_SCHEMES)]
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, png in shots:
            dest = out_dir / f"{name}.png"
            dest.write_bytes(png)
            _compress(dest)
            result.screenshots.append(dest)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m dashboard.report_screenshots RUN_DIR [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run folder with report.html, or an .html file")
    parser.add_argument("--out", type=Path, default=Path("docs/img/report"), help="PNG folder")
    parser.add_argument("--pdf", type=Path, default=None, help="also print the report to this PDF")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    html = args.run / REPORT_FILE if args.run.is_dir() else args.run
    if not html.is_file():
        log.error("%s: no such report (write it with `audit report %s`)", html, args.run)
        return 2
    t0 = time.perf_counter()
    res = check_report(
        html, args.out, chromium=args.chromium, chromedriver=args.chromedriver, pdf=args.pdf
    )
    for url in res.outside:
        log.error("request leaving the file: %s", url[:200])
    for err in res.errors:
        log.error("console error: %s", err[:300])
    if res.scripts:
        log.error("%d <script> element(s) in the report", res.scripts)
    log.info(
        "%s: %d request(s), %d outside the file, %d console error(s), %d screenshot(s) in "
        "%s (%.1f s)",
        html,
        len(res.requests),
        len(res.outside),
        len(res.errors),
        len(res.screenshots),
        args.out,
        time.perf_counter() - t0,
    )
    if not res.screenshots:
        log.error("%s: no page one and no <section id> to capture", html)
    return 0 if res.ok and res.screenshots else 1


if __name__ == "__main__":
    sys.exit(main())
