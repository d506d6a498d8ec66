"""Make docs/html-report.png: the HTML report of a real capture, in headless Chromium.

    python docs/screenshot.py [--output docs/html-report.png]

Writes the report of fixtures/real/07-errors (all five logs, with the scenario's
conflists) as `cnilint check ... --format html` does, opens it in Debian's
chromium through selenium and chromedriver (`apt-get install chromium
chromium-driver`, `pip install selenium`), shows the error findings and the
first portmap record opened, and saves the page from its top to the end of the
records table.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "fixtures/real/07-errors"
LOGS = [f"{SCENARIO}/{name}" for name in ("bridge", "host-local", "macvlan", "portmap", "tuning")]
CONFLISTS = "fixtures/conflists/07-errors"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
).split()
WIDTH = 1400


def make_report(target: Path) -> None:
    from cnilint.cli import main

    os.chdir(ROOT)  # relative paths in the report, as in the README's command
    with contextlib.redirect_stdout(io.StringIO()):
        main(["check", *LOGS, "--conflist", CONFLISTS, "--format", "html", "--output", str(target)])


def browser(profile: str):  # -> selenium WebDriver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},1000"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "docs" / "html-report.png"))
    args = parser.parse_args()
    output = Path(args.output).resolve()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.html"
        make_report(report)
        driver = browser(str(Path(folder) / "profile"))
        try:
            driver.get(report.as_uri())
            driver.execute_script(
                """
                const pick = (id, value) => {
                  const select = document.getElementById(id);
                  select.value = value;
                  select.dispatchEvent(new Event("change"));
                };
                pick("findings-filter-severity", "error");
                pick("records-filter-plugin", "portmap");
                document.querySelector("#records-table tbody tr.record").click();
                window.scrollTo(0, 0);
                """
            )
            bottom = driver.execute_script(
                "const r = document.getElementById('records-table').getBoundingClientRect();"
                "return Math.ceil(r.bottom + window.scrollY + 16);"
            )
            shot = driver.execute_cdp_cmd(
                "Page.captureScreenshot",
                {"captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": WIDTH, "height": bottom, "scale": 1}},
            )
        finally:
            driver.quit()
    output.write_bytes(base64.b64decode(shot["data"]))
    print(f"wrote {output} ({WIDTH}x{bottom})")


if __name__ == "__main__":
    main()
