"""Make docs/img/dashboard.png: a real run against the demo capacity server, seen in chromium.

    .venv/bin/python -m tests.integration.dashboard.docs_screenshot [OUT.png]

The target serves 4 requests at a time in 10 ms each (400/s at most) and refuses with
503 beyond 40 waiting; the plan's arrivals ramp from 100/s to 500/s, so past 400/s the
queue (and latency) climbs and then 503s appear.
The screenshot is taken 14 s into the 20 s run; the run is then stopped from the page
and redline by its PID. Prints what redline printed.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from redline.demo.capacity import CapacityServer

PLAN = """
name = "shop"
base_url = "{url}"

[executor]
type = "ramping-arrival-rate"
start_rate = "100/s"
max_vus = 100
stages = [{{ duration = "10s", target = "500/s" }}, {{ duration = "10s", target = "500/s" }}]

[[requests]]
name = "browse"
url = "/browse"

[[requests]]
name = "cart"
url = "/cart"
"""
#: When the screenshot is taken, seconds into the run.
SHOT_AT_S = 14.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def main(out: Path) -> None:
    server = CapacityServer(slots=4, service_s=0.010, queue_limit=40)
    server.start()
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        plan = Path(folder) / "shop.toml"
        plan.write_text(PLAN.format(url=server.url.rstrip("/")))
        log = Path(folder) / "redline.log"
        command = [
            sys.executable, "-m", "redline", "run", str(plan), "--workers", "1", "--no-save",
            "--dashboard", "--dashboard-port", str(port),
        ]  # fmt: skip
        with log.open("wb") as sink:
            proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        try:
            _shoot(port, out)
            time.sleep(3)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
            server.stop()
        print(log.read_text())


def _shoot(port: int, out: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        time.sleep(2)  # redline starting
        page.goto(f"http://127.0.0.1:{port}/", timeout=30_000)
        page.wait_for_function(
            f"() => Number(document.getElementById('chart-throughput').dataset.points) >= "
            f"{2 * SHOT_AT_S}",
            timeout=60_000,
        )
        page.screenshot(path=str(out), full_page=True)
        page.get_by_role("button", name="Stop the run").click()
        page.locator("#summary").wait_for(state="visible", timeout=30_000)
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img/dashboard.png"))
