"""``redline profile``: where a Python server spends its CPU, as hotspots and a flame graph.

``--pid PID`` attaches py-spy to a running process; ``-- python app.py`` starts
the program, profiles it and stops it (``--in-process`` runs it under
pyinstrument instead, where attaching is not permitted). Writes
``PREFIX.svg`` (flame graph), ``PREFIX.speedscope.json`` (open it in
speedscope.app) and ``PREFIX.txt`` (collapsed stacks), and prints the hotspots.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from redline.cli._exit import ExitCode
from redline.cli._history import PIPE_WIDTH
from redline.cli._run import stop_on_signals
from redline.errors import ConfigError, ProfileError
from redline.plan import (
    LOOP_WATCH_S_RANGE,
    PROFILE_DURATION_S_RANGE,
    PROFILE_TOP_RANGE,
    check_count,
    check_seconds,
    format_duration,
)
from redline.probes import (
    CpuProfile,
    PySpyConfig,
    perf_available,
    profile_command,
    profile_memory_command,
    profile_perf,
    profile_running,
)
from redline.report import (
    flamegraph_svg,
    render_blocking,
    render_cpu_profile,
    render_gil,
    render_memory_profile,
    speedscope_json,
    write_report,
)

__all__ = ["profile"]


def profile(
    command: Annotated[
        list[str] | None,
        typer.Argument(help="A program to start and profile, after --: -- python app.py"),
    ] = None,
    pid: Annotated[int | None, typer.Option(help="Attach to this running process.")] = None,
    duration: Annotated[str, typer.Option(help="How long to sample (1s..24h).")] = "30s",
    rate: Annotated[int, typer.Option(help="Samples a second (1..1000).")] = 100,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output prefix: PREFIX.svg, .speedscope.json, .txt")
    ] = Path("profile"),
    top: Annotated[int, typer.Option(help="Hotspots to print (1..200).")] = 20,
    native: Annotated[bool, typer.Option("--native", help="Include C/C++ frames.")] = False,
    idle: Annotated[bool, typer.Option("--idle", help="Include idle (waiting) threads.")] = False,
    gil: Annotated[bool, typer.Option("--gil", help="Only samples holding the GIL.")] = False,
    by_line: Annotated[
        bool, typer.Option("--by-line", help="One frame per line, not per function.")
    ] = False,
    no_subprocesses: Annotated[
        bool, typer.Option("--no-subprocesses", help="Do not follow child processes.")
    ] = False,
    in_process: Annotated[
        bool, typer.Option("--in-process", help="Run the program under pyinstrument.")
    ] = False,
    memory: Annotated[
        bool, typer.Option("--memory", help="Profile memory (memray) instead of CPU.")
    ] = False,
    tracemalloc: Annotated[
        bool,
        typer.Option("--tracemalloc", help="With --memory: growth by line too (slower)."),
    ] = False,
    perf: Annotated[
        bool, typer.Option("--perf", help="Use perf: servers that are not Python.")
    ] = False,
    gil_contention: Annotated[
        bool,
        typer.Option("--gil-contention", help="Also: which threads wait for the GIL (py-spy)."),
    ] = False,
    loop_watch: Annotated[
        str | None,
        typer.Option(help="With --in-process: name what blocks asyncio loops this long (50ms)."),
    ] = None,
) -> None:
    """Profile a Python process: CPU hotspots (or memory), a flame graph, a speedscope file."""
    duration_s = _duration(duration)
    _check(command, pid, top, in_process, out)
    loop_ms = _loop_watch_ms(loop_watch, in_process)  # every option checked before "profiling"
    if memory and (pid is not None or in_process):
        raise ConfigError("--memory: runs a program redline starts: -- python app.py only")
    console = Console()
    console = console if console.is_terminal else Console(width=PIPE_WIDTH)
    what = "memory" if memory else "CPU"
    console.print(f"profiling {what} for {format_duration(duration_s)} ...", highlight=False)
    stop = threading.Event()
    stop_on_signals(stop)  # Ctrl-C ends the profile early; what was sampled is written
    if memory:
        _memory(command or [], duration_s, stop, tracemalloc=tracemalloc, out=out, top=top,
                console=console)  # fmt: skip
        return
    config = PySpyConfig(rate_hz=rate, native=native, idle=idle, gil=gil,
                         subprocesses=not no_subprocesses, by_line=by_line)  # fmt: skip
    if gil_contention and in_process:
        raise ConfigError("--gil-contention: uses py-spy; it cannot run with --in-process")
    _check_perf(perf, in_process or gil_contention or loop_ms is not None)
    if pid is not None and perf:
        result = profile_perf(pid, duration_s, rate_hz=rate, stop=stop)
    elif pid is not None:
        result = profile_running(pid, duration_s, config, gil=gil_contention, stop=stop)
    else:
        result = profile_command(command or [], duration_s, config, in_process=in_process,
                                 loop_watch_ms=loop_ms, gil=gil_contention, perf=perf,
                                 stop=stop)  # fmt: skip
    _write(out, result)
    _print(console, result, top, out)
    if result.gil is not None:
        render_gil(result.gil, console)
    if result.blocking is not None:
        render_blocking(result.blocking, console)
    if stop.is_set():
        raise typer.Exit(int(ExitCode.INTERRUPTED))  # after the partial profile is written


def _memory(
    command: list[str],
    duration_s: float,
    stop: threading.Event,
    *,
    tracemalloc: bool,
    out: Path,
    top: int,
    console: Console,
) -> None:
    result = profile_memory_command(command, duration_s, stop=stop, use_tracemalloc=tracemalloc)
    paths = _paths(out)
    title = f"memory not freed ({result.method}, {format_duration(round(result.duration_s))})"
    write_report(paths["svg"], flamegraph_svg(result.not_freed, title=title), flag="--out")
    write_report(paths["stacks"], result.not_freed.to_collapsed(), flag="--out")
    peak = result.at_peak if result.at_peak.stacks else result.not_freed
    write_report(paths["speedscope"], speedscope_json(peak, name="memory at the peak"),
                 flag="--out")  # fmt: skip
    render_memory_profile(result, console, top=top)
    for path in paths.values():
        console.print(f"written: {path}", highlight=False)
    if stop.is_set():
        raise typer.Exit(int(ExitCode.INTERRUPTED))  # after the partial profile is written


def _check_perf(perf: bool, python_only: bool) -> None:
    if not perf:
        return
    if python_only:
        raise ConfigError(
            "--perf: profiles any program; --in-process, --loop-watch and --gil-contention "
            "are for Python programs"
        )
    reason = perf_available()
    if reason is not None:
        raise ProfileError(f"--perf: perf cannot profile here: {reason}")


def _loop_watch_ms(text: str | None, in_process: bool) -> float | None:
    if text is None:
        return None
    if not in_process:
        raise ConfigError(
            "--loop-watch: watches the loop from inside the program; add --in-process"
        )
    return check_seconds(text, LOOP_WATCH_S_RANGE, field="--loop-watch") * 1000


def _duration(text: str) -> float:
    return check_seconds(text, PROFILE_DURATION_S_RANGE, field="--duration")


def _check(
    command: list[str] | None, pid: int | None, top: int, in_process: bool, out: Path
) -> None:
    """Refuse what cannot work before anything is started."""
    if (pid is None) == (not command):
        raise ConfigError(
            "profile: give --pid PID or a program after -- (e.g. -- python app.py), not both"
        )
    if in_process and pid is not None:
        raise ConfigError("--in-process: runs a program redline starts; it cannot take --pid")
    check_count(top, PROFILE_TOP_RANGE, field="--top")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ConfigError(f"--out: {str(folder)!r} is not a writable folder")


def _write(out: Path, result: CpuProfile) -> None:
    title = f"CPU profile ({result.method}, {format_duration(round(result.duration_s))})"
    paths = _paths(out)
    write_report(paths["svg"], flamegraph_svg(result.samples, title=title), flag="--out")
    write_report(paths["speedscope"], speedscope_json(result.samples, name=title), flag="--out")
    write_report(paths["stacks"], result.samples.to_collapsed(), flag="--out")


def _paths(out: Path) -> dict[str, Path]:
    return {
        "svg": out.with_name(out.name + ".svg"),
        "speedscope": out.with_name(out.name + ".speedscope.json"),
        "stacks": out.with_name(out.name + ".txt"),
    }


def _print(console: Console, result: CpuProfile, top: int, out: Path) -> None:
    render_cpu_profile(result, console, top=top)
    for path in _paths(out).values():
        console.print(f"written: {path}", highlight=False)
