"""``redline investigate`` against a real loopback service started by its server command."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from redline.cli._investigate import investigate_context
from redline.errors import ConfigError, TargetError
from redline.investigate import BudgetConfig, PhaseName
from redline.optimize import PidRegistry, pid_registry_path
from redline.plan import parse_dsn, parse_threshold, plan_from_flags
from redline.plan._context import Context, ServerSpec
from redline.probes import process_exists
from redline.store import RunStore

#: The smallest budgets that still run every phase (the load phases' tests last 10 s).
TINY_BUDGETS = BudgetConfig({phase: 12.0 for phase in PhaseName})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_context(port: int, command: str | None = None) -> Context:
    plan = plan_from_flags(f"http://127.0.0.1:{port}/", vus=2, duration="10s")
    server = command or (
        f"{sys.executable} -m redline.demo.bottlenecks cpu --port {port} --work-ms 2"
    )
    return Context(plan=plan, slas=(parse_threshold("p95<50ms", field="sla"),),
                   server=ServerSpec(command=server))  # fmt: skip


def test_investigate_runs_every_phase_stores_runs_and_leaves_nothing(tmp_path: Path) -> None:
    history, progress = tmp_path / "history.db", tmp_path / "progress.jsonl"
    out = io.StringIO()
    summary = investigate_context(
        cpu_context(free_port()), budgets=TINY_BUDGETS, history=history,
        out_dir=tmp_path / "out", progress_json=progress, console=Console(file=out, width=200),
    )  # fmt: skip

    events = [json.loads(line) for line in progress.read_text().splitlines()]
    assert {e["agent"] for e in events} == {"redline"}
    assert [(e["status"], e["progress"]["phase"]) for e in events] == [
        ("baselining", "baseline"), ("load-testing", "scalability"), ("profiling", "profile"),
        ("analyzing", "analysis"), ("analyzing", "diagnosis"), ("validating", "report"),
        ("done", "done"),
    ]  # fmt: skip
    with RunStore.open(history) as store:
        stored = {run.id: run for run in store.list()}
        documents = {run_id: store.get(run_id).document for run_id in stored}
    assert set(stored) == set(summary["runs"].values())
    baseline = stored[summary["runs"]["baseline"]]
    assert summary["figures"]["baseline"] == {
        "run_id": baseline.id, "p95_ms": baseline.p95_us / 1000, "rps": baseline.rps,
        "error_rate": baseline.error_rate,
    }  # fmt: skip
    done = events[-1]["progress"]
    assert (done["baseline_p95_ms"], done["baseline_rps"]) == (baseline.p95_us / 1000, baseline.rps)
    written = json.loads((tmp_path / "out" / "investigation.json").read_text())
    assert written["figures"] == summary["figures"]
    assert [p["phase"] for p in written["phases"]] == [
        "baseline",
        "scalability",
        "profile",
        "analysis",
        "diagnosis",
        "report",
    ]
    assert (tmp_path / "out" / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "delivery summary" in out.getvalue()
    assert f"p95 {baseline.p95_us / 1000:,.2f} ms" in out.getvalue()
    server_pids = {(d.get("resources") or {}).get("server_pid") for d in documents.values()}
    assert len(server_pids) == 1 and None not in server_pids  # one server for every run
    assert not any(process_exists(pid) for pid in server_pids if pid is not None)
    assert PidRegistry(pid_registry_path(history)).live() == []


def test_an_unreachable_target_fails_before_any_load(tmp_path: Path) -> None:
    port = free_port()
    plan = plan_from_flags(f"http://127.0.0.1:{port}/", vus=1, duration="10s")
    with pytest.raises(TargetError, match=rf"target 'http://127.0.0.1:{port}/' is unreachable"):
        investigate_context(Context(plan=plan), budgets=TINY_BUDGETS,
                            history=tmp_path / "h.db", out_dir=tmp_path)  # fmt: skip
    assert not (tmp_path / "h.db").exists() or RunStore.open(tmp_path / "h.db").list() == []


def test_a_server_command_that_never_listens_fails_and_is_gone(tmp_path: Path) -> None:
    command = f"{sys.executable} -c 'raise SystemExit(4)'"
    with pytest.raises(TargetError, match="exited with code 4 before listening"):
        investigate_context(cpu_context(free_port(), command), budgets=TINY_BUDGETS,
                            history=tmp_path / "h.db", out_dir=tmp_path)  # fmt: skip
    assert PidRegistry(pid_registry_path(tmp_path / "h.db")).live() == []


def test_a_wrong_database_fails_before_any_load_and_stops_the_server(tmp_path: Path) -> None:
    port = free_port()
    context = cpu_context(port)
    missing = parse_dsn(f"sqlite:///{tmp_path}/missing.db", field="db")
    context = Context(plan=context.plan, server=context.server, databases=(missing,))
    with pytest.raises(ConfigError, match=r"database 'sqlite:///.*missing.db': no such SQLite"):
        investigate_context(context, budgets=TINY_BUDGETS, history=tmp_path / "h.db",
                            out_dir=tmp_path)  # fmt: skip
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # the server was stopped


def test_the_command_exits_3_on_an_unreachable_target(tmp_path: Path) -> None:
    (tmp_path / "redline.toml").write_text(
        f'[target]\nurls = ["http://127.0.0.1:{free_port()}/"]\n'
        'executor = { type = "constant-vus", vus = 1, duration = "10s" }\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "redline", "investigate", "redline.toml", "--quick",
         "--history", "h.db"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("error: target 'http://127.0.0.1:")
