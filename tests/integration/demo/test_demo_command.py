"""``redline demo``: the bundled shop investigated from the command line, nothing left running."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from redline.optimize import PidRegistry, pid_registry_path
from redline.probes import process_exists

#: The whole demo must finish under 3 minutes on a 2-core machine; a hang fails sooner.
DEMO_TIMEOUT_S = 300


def redline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "redline", *args], capture_output=True,
                          text=True, timeout=DEMO_TIMEOUT_S, cwd=cwd, check=False)  # fmt: skip


def test_an_out_dir_that_is_a_file_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    proc = redline("demo", "--out-dir", "taken", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: --out-dir: 'taken' is a file; give a folder"


@pytest.mark.slow
def test_the_demo_investigates_the_shop_keeps_the_index_and_stops_it(tmp_path: Path) -> None:
    proc = redline("demo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = tmp_path / "redline-demo"
    assert "delivery summary" in proc.stdout and (out / "report.html").exists()
    summary = json.loads((out / "investigation.json").read_text())
    assert [(c["change"], c["decision"]) for c in summary["changes"]] == [
        ("index products (brand, price_cents)", "kept")
    ]
    with sqlite3.connect(out / "shop.db") as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")]
    assert any(name.startswith("redline_products_brand") for name in names)
    registry = PidRegistry(pid_registry_path(out / "redline.db"))
    assert not any(process_exists(p.pid) for p in registry.registered())
