"""``redline system audit`` and ``redline system tune``: kernel, OS and container settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from redline.cli._changes import open_journal
from redline.cli._exit import ExitCode
from redline.cli._history import PIPE_WIDTH, DbOption, run_document
from redline.diagnose import Diagnosis, RunPeaks, SystemAudit, audit_system
from redline.errors import ConfigError
from redline.optimize import (
    KernelOutcome,
    apply_kernel,
    check_permitted,
    kernel_changes,
    undo_kernel,
)
from redline.plan import check_port
from redline.probes import SYSCTLS, LiveSystem, SystemFacts, read_system
from redline.report import render_diagnosis
from redline.units import format_bytes

__all__ = ["system_app"]

system_app = typer.Typer(
    name="system",
    help="Audit (and tune) the kernel, OS and container settings that bound a service.",
    no_args_is_help=True,
)


PidOption = Annotated[
    int | None, typer.Option("--server-pid", help="The server's process: its limits and sockets.")
]
PortOption = Annotated[
    int | None, typer.Option("--port", help="The server's TCP port: its listen backlog.")
]
RunOption = Annotated[
    str | None,
    typer.Option(
        "--run",
        metavar="RUN",
        help="Compare with this run's peaks (a run id, baseline or results file).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def live_system() -> LiveSystem:
    """The source of this machine's settings (tests replace it with a FakeSystem)."""
    return LiveSystem()


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=PIPE_WIDTH)


def _audit(
    source: LiveSystem, server_pid: int | None, port: int | None, run: str | None, db: Path | None
) -> SystemAudit:
    if port is not None:
        check_port(port, field="--port")
    if server_pid is not None and source.read(f"/proc/{server_pid}/stat") is None:
        raise ConfigError(f"--server-pid: no process {server_pid!r} here")
    peaks = None if run is None else RunPeaks.of(run_document(db, run))
    return audit_system(read_system(source, server_pid=server_pid, port=port), peaks)


@system_app.command("audit")
def audit(
    server_pid: PidOption = None,
    port: PortOption = None,
    run: RunOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The settings, each judged against the run's peaks (or a stated default), with fixes."""
    result = _audit(live_system(), server_pid, port, run, db)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=1, ensure_ascii=False))
        return
    console = _console()
    console.print(_facts_table(result.facts))
    if result.peaks is not None:
        console.print(_peaks_line(result.peaks), highlight=False)
    diagnosis = Diagnosis("system", result.findings, False, result.notes)
    render_diagnosis(diagnosis, console, title="system audit")


@system_app.command("tune")
def tune(
    apply: Annotated[
        bool, typer.Option("--apply", help="Make the changes (root, not in a container).")
    ] = False,
    undo: Annotated[
        bool, typer.Option("--undo", help="Restore the values the journal recorded.")
    ] = False,
    server_pid: PidOption = None,
    port: PortOption = None,
    run: RunOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The kernel parameters the audit recommends, as Changes; applied only with --apply."""
    if apply and undo:
        raise ConfigError("--apply and --undo: choose one")
    source = live_system()
    journal = open_journal(db)  # the journal of every change, beside the run history
    if undo:
        check_permitted(read_system(source), action="system tune --undo")
        _outcomes(undo_kernel(source, journal), as_json, journal.path, verb="undone")
        return
    result = _audit(source, server_pid, port, run, db)
    if not apply:
        _show_changes(result, as_json)
        return
    check_permitted(result.facts, action="system tune --apply")
    _outcomes(apply_kernel(result.settings, source, journal), as_json, journal.path, "applied")


def _show_changes(result: SystemAudit, as_json: bool) -> None:
    changes = kernel_changes(result.settings)
    if as_json:
        typer.echo(json.dumps([c.to_dict() for c in changes], indent=1, ensure_ascii=False))
        return
    console = _console()
    if not changes:
        console.print("no kernel parameter to change")
        return
    table = Table(title="kernel parameters to change (not applied)")
    for header in ("change", "apply", "undo", "verify"):
        table.add_column(header)
    for change in changes:
        table.add_row(change.summary, change.apply, change.undo, change.verify)
    console.print(table)
    console.print("apply them with: redline system tune --apply (as root, on the host)")


def _outcomes(outcomes: list[KernelOutcome], as_json: bool, journal: Path, verb: str) -> None:
    failed = [o for o in outcomes if not o.ok]
    if as_json:
        rows = [{"change": o.change.to_dict(), "ok": o.ok, "detail": o.detail} for o in outcomes]
        typer.echo(json.dumps({"journal": str(journal), verb: rows}, indent=1))
    else:
        console = _console()
        if not outcomes:
            console.print(f"nothing to be {verb}")
        for outcome in outcomes:
            mark = verb if outcome.ok else "FAILED"
            console.print(f"{mark}: {outcome.change.summary}: {outcome.detail}", highlight=False)
        if outcomes:
            console.print(f"journal: {journal}", highlight=False)
    if failed:
        raise typer.Exit(int(ExitCode.TARGET))


def _facts_table(facts: SystemFacts) -> Table:
    table = Table(title="system settings")
    for header in ("setting", "value", "source"):
        table.add_column(header)
    for key in SYSCTLS:
        table.add_row(key, _shown(facts.sysctls.get(key)), "sysctl")
    for label, value, source in _other_facts(facts):
        table.add_row(label, value, source)
    return table


def _other_facts(facts: SystemFacts) -> list[tuple[str, str, str]]:
    governors = ", ".join(f"{g} ({n})" for g, n in facts.governors.items()) or "none (no cpufreq)"
    rows = [
        ("transparent huge pages", _shown(facts.transparent_hugepages), "/sys/kernel/mm"),
        ("CPU frequency governor", governors, "/sys/devices/system/cpu"),
        ("CPUs online", _shown(facts.cpus), "/sys/devices/system/cpu/online"),
        ("memory", _bytes(facts.mem_total_bytes), "/proc/meminfo"),
        (
            "swap",
            _bytes(facts.swap_total_bytes) if facts.swap_total_bytes else "none",
            "/proc/meminfo",
        ),
    ]
    if facts.process is not None:
        p = facts.process
        rows.append(
            (
                f"open files of {p.name} (pid {p.pid})",
                f"{_shown(p.open_fds)} open; limit {_shown(p.nofile_soft)} soft, "
                f"{_shown(p.nofile_hard)} hard",
                f"/proc/{p.pid}/limits",
            )  # fmt: skip
        )
    rows += [
        (f"listen backlog, port {s.port}", f"{s.backlog:,} ({s.queued:,} waiting)", "sock_diag")
        for s in facts.listeners
    ]
    rows += _cgroup_rows(facts)
    rows.append(("databases running here", ", ".join(facts.databases) or "none", "/proc/*/comm"))
    rows.append(("container", facts.container or "no", "/.dockerenv, /proc/1/cgroup"))
    return rows


def _cgroup_rows(facts: SystemFacts) -> list[tuple[str, str, str]]:
    cgroup = facts.cgroup
    if cgroup is None:
        return [("cgroup v2", "not found", "/proc/self/cgroup")]
    stat = cgroup.cpu_stat
    return [
        ("cgroup", cgroup.path, "/proc/PID/cgroup"),
        ("cpu.max", "max" if cgroup.cpu_max_cores is None else f"{cgroup.cpu_max_cores:g} cores",
         "cgroup"),
        ("cpu throttled", f"{stat.get('nr_throttled', 0):,} of {stat.get('nr_periods', 0):,} "
         "periods", "cpu.stat"),
        ("memory.max", _bytes(cgroup.memory_max_bytes) if cgroup.memory_max_bytes else "max",
         "cgroup"),
        ("memory.events", ", ".join(f"{k} {v}" for k, v in cgroup.memory_events.items()),
         "cgroup"),
        ("pids.max", _shown(cgroup.pids_max) if cgroup.pids_max else "max", "cgroup"),
    ]  # fmt: skip


def _peaks_line(peaks: RunPeaks) -> str:
    cpu = "?" if peaks.server_cpu_cores is None else f"{peaks.server_cpu_cores:.2f} cores"
    return (
        f"run {peaks.run_id} peaks: {peaks.connections:,} connections, "
        f"{peaks.time_wait:,} TIME_WAIT, server CPU {cpu}, RSS {_bytes(peaks.server_rss_bytes)}, "
        f"open files {_shown(peaks.server_open_fds)}"
    )


def _shown(value: Any) -> str:
    if value is None:
        return "?"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _bytes(size: int | None) -> str:
    return "?" if size is None else format_bytes(size)
