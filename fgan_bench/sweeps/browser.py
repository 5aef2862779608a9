"""Checking a report in a real browser: headless Chromium loads ``report.html`` and reports
whether every figure decoded and every table rendered; optionally it takes a screenshot.

The check runs inside the page: a copy of the report gets a small script that, once the
page has loaded, counts the images whose ``naturalWidth`` is 0 (not loaded or not decoded)
and the tables with no rendered rows, and writes the counts into the DOM, which Chromium's
``--dump-dom`` prints. No WebDriver is needed, only Debian's ``chromium`` package.

    python -m fgan_bench.sweeps.browser reports/smoke/report.html --screenshot docs/report.png
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from fgan_bench.errors import FganBenchError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_CHECK = """
<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const tables = Array.from(document.querySelectorAll("table"));
  const result = {
    images: images.length,
    broken_images: images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt),
    tables: tables.length,
    empty_tables: tables.filter(t => t.rows.length < 2 || t.getBoundingClientRect().height === 0).length,
    table_rows: tables.reduce((n, t) => n + t.rows.length, 0),
  };
  const out = document.createElement("pre");
  out.id = "fgan-bench-check";
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>
"""


def find_browser() -> str | None:
    """The Chromium executable (``$CHROMIUM`` or the first of :data:`BROWSERS` on the PATH)."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def _chromium(browser: str, *arguments: str, timeout: int = 120) -> subprocess.CompletedProcess:
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--virtual-time-budget=10000",
        *arguments,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def check_report(
    report: str | Path, *, screenshot: str | Path | None = None, width: int = 1280, height: int = 2400
) -> dict:
    """Loads ``report`` in headless Chromium; returns the counts (``images``, ``broken_images``, ...).

    Raises:
        FganBenchError: no Chromium, or it did not load the page.
    """
    browser = find_browser()
    if browser is None:
        raise FganBenchError(
            "no Chromium found: install Debian's chromium package (apt-get install chromium) "
            "or set CHROMIUM=/path/to/chrome"
        )
    report = Path(report).resolve()
    html = report.read_text()
    with tempfile.TemporaryDirectory() as folder:
        checked = Path(folder) / "report.html"
        checked.write_text(html.replace("</body>", _CHECK + "</body>"))
        completed = _chromium(browser, "--dump-dom", checked.as_uri())
        match = re.search(r'<pre id="fgan-bench-check">(.*?)</pre>', completed.stdout, re.S)
        if match is None:
            raise FganBenchError(f"Chromium did not render {report}: {completed.stderr.strip().splitlines()[-1:]}")
        result = json.loads(match.group(1).replace("&quot;", '"'))
    if screenshot is not None:
        screenshot = Path(screenshot).resolve()
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        _chromium(browser, f"--screenshot={screenshot}", f"--window-size={width},{height}", report.as_uri())
        if not screenshot.exists():
            raise FganBenchError(f"Chromium wrote no screenshot to {screenshot}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="check a report in headless Chromium")
    parser.add_argument("report", help="a report.html")
    parser.add_argument("--screenshot", help="also save a PNG screenshot here")
    args = parser.parse_args(argv)
    try:
        result = check_report(args.report, screenshot=args.screenshot)
    except FganBenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    ok = result["images"] > 0 and not result["broken_images"] and result["tables"] > 0 and not result["empty_tables"]
    print("ok: every figure loaded and every table rendered" if ok else "FAILED", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
