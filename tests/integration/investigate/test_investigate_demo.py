"""``investigate --quick --optimize --rollback-after`` on the demo shop, end to end (~2 min)."""

from __future__ import annotations

import io
import json
import socket
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console

from redline.cli._investigate import investigate_context
from redline.demo.shop_app import write_files
from redline.demo.shop_app._db import ensure_database
from redline.investigate import BudgetConfig
from redline.optimize import PidRegistry, pid_registry_path
from redline.plan import load_context
from redline.probes import process_exists
from redline.store import RunStore

QUERIES = Path(__file__).parents[3] / "src" / "redline" / "demo" / "shop_app" / "queries.sql"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def brand_indexes(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                            "AND name LIKE 'redline_%'").fetchall()  # fmt: skip
        return [name for (name,) in rows]
    finally:
        conn.close()


@pytest.mark.slow
def test_the_demo_shop_is_investigated_optimized_and_rolled_back(tmp_path: Path) -> None:
    db, history = tmp_path / "shop.db", tmp_path / "history.db"
    ensure_database(db)
    _plan, context_file = write_files(tmp_path, port=free_port(), db=db)
    summary = investigate_context(
        load_context(context_file), budgets=BudgetConfig.quick(), history=history,
        out_dir=tmp_path / "out", optimize=True, rollback_after=True, queries=QUERIES,
        progress_json=tmp_path / "progress.jsonl", console=Console(file=io.StringIO()),
    )  # fmt: skip

    events = [json.loads(line) for line in (tmp_path / "progress.jsonl").read_text().splitlines()]
    assert [e["progress"]["phase"] for e in events] == [
        "baseline", "scalability", "profile", "analysis", "diagnosis", "optimize", "validate",
        "report", "rollback", "done",
    ]  # fmt: skip
    assert [c["change"] for c in summary["changes"]] == ["index products (brand, price_cents)"]
    assert summary["changes"][0]["decision"] == "kept"
    with RunStore.open(history) as store:
        for label, run_id in summary["runs"].items():
            stored = store.get(run_id).summary
            assert summary["figures"][label]["p95_ms"] == stored.p95_us / 1000
            assert summary["figures"][label]["rps"] == stored.rps
    assert set(summary["runs"]) == {"baseline", "scalability", "after"}
    assert summary["improvement"]["throughput_increase"] is not None
    assert (tmp_path / "out" / "comparison.html").exists()
    assert [r["ok"] for r in summary["rollback"]] == [True]
    assert brand_indexes(db) == []
    assert PidRegistry(pid_registry_path(history)).live() == []
    pids = {p.pid for p in PidRegistry(pid_registry_path(history)).registered()}
    assert not any(process_exists(pid) for pid in pids)
