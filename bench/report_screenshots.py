"""Screenshots of an HTML report's sections for docs/report.md, in headless chromium.

    .venv/bin/python bench/report_screenshots.py report.html docs/img

writes ``report-<section>.png`` for the headline, over-time, latency
distribution, resources, findings and capacity sections (each cut to
``--height`` pixels), at a laptop's width.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
SECTIONS = ("headline", "over-time", "latency-distribution", "resources", "findings", "capacity")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": args.height})
        page.goto(args.report.resolve().as_uri(), wait_until="load")
        for name in SECTIONS:
            box = page.locator(f"section#{name}").bounding_box()
            if box is None:
                continue
            clip = {
                "x": 0,
                "y": box["y"] - 8,
                "width": 1200,
                "height": min(box["height"] + 16, args.height),
            }
            path = args.out / f"report-{name}.png"
            page.screenshot(path=str(path), clip=clip, full_page=True)
            print(f"wrote {path}")
        browser.close()


if __name__ == "__main__":
    main()
