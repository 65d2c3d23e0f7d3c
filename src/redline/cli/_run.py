"""``redline run``: parse the flags, build a plan, run it, show and write results."""

from __future__ import annotations

import functools
import os
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from redline.cli._compare import (
    check_baseline,
    compare_with_baseline,
    comparison_cases,
    gate_exit_code,
)
from redline.cli._dashboard import (
    DashboardHostOption,
    DashboardOption,
    DashboardPortOption,
    DashboardTokenOption,
    hold_dashboard,
    open_dashboard,
)
from redline.cli._exit import ExitCode
from redline.cli._history import DbOption, db_path, save_run
from redline.cli._http import with_http_audit
from redline.cli._report import ReportOption, write_run_report
from redline.cli._server import (
    SampleEveryOption,
    ServerCmdOption,
    ServerPidOption,
    parse_sample_every,
    resource_sampling,
)
from redline.compare import Comparison, NotComparable
from redline.diagnose import Diagnosis, TestReport, analyze_run
from redline.diagnose import diagnose as diagnose_document
from redline.errors import ConfigError, TargetError
from redline.investigate import run_plan
from redline.load import RunResult, RunStatus
from redline.optimize import PidRegistry, pid_registry_path
from redline.plan import (
    Dsn,
    Plan,
    check_dsn_scope,
    load_plan,
    load_python_scenario,
    load_yaml_plan,
    parse_dsn,
    plan_from_flags,
)
from redline.probes import (
    CACHE_SCHEMES,
    RUN_DATABASE_PROBES,
    cache_watch,
    statement_watch,
)
from redline.report import (
    LiveView,
    render_comparison,
    render_diagnosis,
    render_profiles,
    render_run_statements,
    render_summary,
    render_test_report,
    results_to_dict,
    threshold_cases,
    write_junit,
    write_markdown,
    write_results,
)
from redline.report.outputs import (
    OutputConfig,
    OutputFeed,
    build_outputs,
    fan_out,
    parse_outputs,
)

if TYPE_CHECKING:
    from redline.probes import MemcachedWatch, RedisWatch

__all__ = ["run", "stop_on_signals"]


def _parse_headers(headers: list[str]) -> dict[str, str]:
    parsed = {}
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise ConfigError(f"--header: {header!r} is not of the form 'Name: value'")
        parsed[name.strip()] = value.strip()
    return parsed


#: How a target that is a file is read, by its suffix; anything else is a URL.
PLAN_LOADERS: dict[str, Callable[[Path], Plan]] = {
    ".toml": load_plan,
    ".yaml": load_yaml_plan,
    ".yml": load_yaml_plan,
    ".py": load_python_scenario,
}


def _build_plan(target: str, options: dict[str, object]) -> Plan:
    loader = PLAN_LOADERS.get(Path(target).suffix)
    if loader is not None and not target.startswith(("http://", "https://")):
        plan = loader(Path(target))
    else:
        plan = plan_from_flags(target, **options)  # type: ignore[arg-type]
    plan.validate_scope()
    return plan


#: Width of the summary when the output is not a terminal (a file, a CI log).
PIPE_WIDTH = 140


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=PIPE_WIDTH)


def _default_workers() -> int:
    """The cores this process may run on: the cores given to the generator."""
    return len(os.sched_getaffinity(0))


def stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: leave now
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _exit_code(result: RunResult) -> ExitCode:
    if result.status is RunStatus.INTERRUPTED:
        return ExitCode.INTERRUPTED
    if result.status is RunStatus.FAILED:
        return ExitCode.TARGET
    if result.status is RunStatus.ABORTED:
        return ExitCode.ABORTED
    if result.status is RunStatus.BROKE:
        # A stress or breakpoint test found its breaking point: what it is for.
        return ExitCode.OK
    if not result.thresholds_passed:
        return ExitCode.THRESHOLDS_FAILED
    return ExitCode.OK


def run(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(help="A URL (http/https), a plan file (.toml) or a scenario (.py).")
    ],
    vus: Annotated[int | None, typer.Option(help="Virtual users (closed model), 1..50000.")] = None,
    duration: Annotated[str | None, typer.Option(help="How long, e.g. 30s, 5m (10s..24h).")] = None,
    rate: Annotated[
        str | None, typer.Option(help="Arrival rate (open model), e.g. 5000/s (0.1..100000/s).")
    ] = None,
    max_vus: Annotated[int | None, typer.Option(help="Open model: most VUs to use.")] = None,
    on_busy: Annotated[
        str | None,
        typer.Option(help="Open model, every VU busy: drop the arrival (k6) or queue it (wrk2)."),
    ] = None,
    iterations: Annotated[
        int | None, typer.Option(help="Stop after this many iterations, shared by the VUs.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: the cores given to redline).")
    ] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option(
            help='A pass/fail rule, e.g. "p95<300ms", "error_rate<1%", "p99[name]<1s:abort".'
        ),
    ] = None,
    method: Annotated[str, typer.Option(help="HTTP method for a URL target.")] = "GET",
    header: Annotated[
        list[str] | None, typer.Option(help='A request header, "Name: value".')
    ] = None,
    body: Annotated[str | None, typer.Option(help="A request body.")] = None,
    connect_timeout: Annotated[
        str | None, typer.Option(help="Connect timeout (100ms..5m).")
    ] = None,
    timeout: Annotated[str | None, typer.Option(help="Request timeout (100ms..5m).")] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Do not verify TLS certificates.")
    ] = False,
    test_type: Annotated[
        str | None,
        typer.Option(
            "--type",
            help="A test type: load, stress, spike, soak, volume, scalability, "
            "breakpoint, baseline (see docs/test-types.md).",
        ),
    ] = None,
    target_load: Annotated[
        str | None,
        typer.Option(
            "--target", help="With --type: the expected load, VUs (100) or a rate (500/s)."
        ),
    ] = None,
    steps: Annotated[
        int | None, typer.Option(help="stress, scalability: load levels (2..50).")
    ] = None,
    spike_factor: Annotated[
        float | None, typer.Option(help="spike: the spike's level, times the target.")
    ] = None,
    repeat: Annotated[int | None, typer.Option(help="baseline: repeats (1..20).")] = None,
    ramp_up: Annotated[
        str | None, typer.Option(help="load, volume, soak: the ramp to the target (0s..1h).")
    ] = None,
    body_size: Annotated[
        str | None,
        typer.Option(
            help="volume: a body of this size on POST/PUT/PATCH, e.g. 64KiB (16B..100MiB)."
        ),
    ] = None,
    rows: Annotated[
        int | None,
        typer.Option(help="volume: spread requests over this many records, as ${row} (0..N-1)."),
    ] = None,
    out: Annotated[
        list[str] | None,
        typer.Option(
            help="PATH: write the results (JSON) there when the run ends. Repeatable, and "
            "json=FILE, csv=FILE (each second, as it ends) or otlp=URL (OpenTelemetry "
            "metrics over OTLP/HTTP) stream; see docs/outputs.md."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No live view; only the summary.")] = False,
    no_save: Annotated[
        bool, typer.Option("--no-save", help="Do not save the run in the history.")
    ] = False,
    tag: Annotated[
        list[str] | None, typer.Option(help="A tag for the saved run (repeatable).")
    ] = None,
    db: DbOption = None,
    baseline: Annotated[
        str | None,
        typer.Option(help="Compare the run with this baseline (name or run id) when it ends."),
    ] = None,
    fail_on_regression: Annotated[
        bool,
        typer.Option(
            "--fail-on-regression",
            help="With --baseline: exit 98 if a figure regressed, 97 if not comparable.",
        ),
    ] = False,
    junit: Annotated[
        Path | None, typer.Option(help="Write thresholds and regression verdicts as JUnit XML.")
    ] = None,
    markdown: Annotated[
        Path | None, typer.Option(help="Write a Markdown summary (for a PR or CI step summary).")
    ] = None,
    report: ReportOption = None,
    server_pid: ServerPidOption = None,
    server_cmd: ServerCmdOption = None,
    sample_every: SampleEveryOption = "1s",
    database: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="The database under test, postgresql://... or mysql://... (MariaDB too): "
            "its statements during the run and its activity each second.",
        ),
    ] = None,
    cache: Annotated[
        str | None,
        typer.Option(
            "--cache",
            help="The cache under test, redis://... or memcached://...: its hits, misses, "
            "evictions, memory and CPU each second, and Redis's slow commands during the run.",
        ),
    ] = None,
    diagnose: Annotated[
        bool,
        typer.Option(
            "--diagnose", help="Name the bottlenecks when the run ends (see redline diagnose)."
        ),
    ] = False,
    profile: Annotated[
        bool,
        typer.Option(
            "--profile",
            help="Profile the server with py-spy in each steady window (needs the server).",
        ),
    ] = False,
    http_audit: Annotated[
        bool,
        typer.Option(
            "--http-audit",
            help="When the run ends, audit the plan's endpoints for HTTP caching "
            "(see redline http audit); its findings join the diagnosis.",
        ),
    ] = False,
    dashboard: DashboardOption = False,
    dashboard_port: DashboardPortOption = None,
    dashboard_host: DashboardHostOption = None,
    dashboard_token: DashboardTokenOption = None,
) -> None:
    """Load a target and report latency, throughput and errors."""
    console = _console()
    options: dict[str, object] = {
        "vus": vus,
        "duration": duration,
        "rate": rate,
        "max_vus": max_vus,
        "iterations": iterations,
        "on_busy": on_busy,
        "thresholds": threshold or [],
        "method": method,
        "headers": _parse_headers(header or []),
        "body": body,
        "connect_timeout": connect_timeout,
        "request_timeout": timeout,
        "insecure": insecure,
        "workers": workers,
        "test": {
            "type": test_type,
            "target": target_load,
            "steps": steps,
            "spike_factor": spike_factor,
            "repeat": repeat,
            "ramp_up": ramp_up,
            "body_size": body_size,
            "rows": rows,
        },
    }
    plan = _build_plan(target, options)
    outputs = parse_outputs(out or [], allowed_hosts=plan.allowed_hosts)
    _check_gate(db, baseline, fail_on_regression, no_save)
    worker_count = workers or plan.workers or _default_workers()
    stop = threading.Event()
    stop_on_signals(stop)
    board = open_dashboard(
        ctx, dashboard, port=dashboard_port, host=dashboard_host, token=dashboard_token,
        stop=stop, console=console,
    )  # fmt: skip
    live = not quiet and console.is_terminal
    if profile and server_pid is None and server_cmd is None:
        raise ConfigError("--profile: needs the server: --server-pid PID or --server-cmd CMD")
    interval_s = parse_sample_every(sample_every)
    dsn = None
    if database is not None:
        dsn = parse_dsn(database, field="--db", schemes=tuple(RUN_DATABASE_PROBES))
        check_dsn_scope(dsn, plan.allowed_hosts, field="--db", allow_with="allowed_hosts")
    statements = statement_watch(dsn) if dsn is not None else None  # loads the driver
    if statements is not None:
        statements.check()  # a database that refuses stops the run before any load
    cache_dsn, cache_watcher = _cache_under_test(cache, plan.allowed_hosts)
    pids = PidRegistry(pid_registry_path(db_path(db)))  # what redline verify checks
    with resource_sampling(
        plan, server_cmd=server_cmd, server_pid=server_pid, stop=stop, interval_s=interval_s,
        database=dsn, cache=cache_dsn, pids=pids,
    ) as sampler:  # fmt: skip
        feed = _output_feed(outputs.streams, plan) if outputs.streams else None
        measure = functools.partial(
            run_plan, plan, workers=worker_count, sampler=sampler, stop=stop, profile=profile,
            statements=statements, cache=cache_watcher, watchers=(board, feed), pids=pids,
        )  # fmt: skip
        if live:
            with LiveView(console) as view:
                result = measure(observer=fan_out(view, board, feed))
        else:
            result = measure(observer=fan_out(board, feed))
    analysis = analyze_run(result)
    render_summary(result, console)
    render_test_report(analysis, console)
    render_profiles(result.profiles, console)
    if result.database is not None:
        render_run_statements(result.database, console)
    diagnosis = _diagnosis(result, analysis, diagnose=diagnose, http_audit=http_audit)
    if diagnosis is not None:
        render_diagnosis(diagnosis, console)
    if outputs.results is not None:
        write_results(result, outputs.results, analysis, diagnosis)
        console.print(f"results written to {outputs.results}")
    run_id = None
    if not no_save:
        run_id = save_run(db, result, analysis, tags=tag)
        console.print(f"saved as run {run_id}")
    gate = _gate(console, db, baseline, run_id, fail_on_regression)
    cases = threshold_cases(result) + (comparison_cases(gate) if gate is not None else [])
    if junit is not None:
        write_junit(junit, result.plan.name, cases, time_s=result.elapsed_s)
    if markdown is not None:
        write_markdown(markdown, result, cases)
    write_run_report(report, result, analysis, diagnosis, console, db=db, baseline=baseline)
    hold_dashboard(ctx, board, result, console)
    if result.status is RunStatus.FAILED:
        # After the figures are printed and written: the reason, as every error is shown.
        raise TargetError(result.aborted_by or "the run failed")
    code = _exit_code(result)
    if code is ExitCode.OK and fail_on_regression and gate is not None:
        code = gate_exit_code(gate) or code
    raise typer.Exit(int(code))


def _diagnosis(
    result: RunResult, analysis: TestReport, *, diagnose: bool, http_audit: bool
) -> Diagnosis | None:
    """The run's diagnosis with ``--diagnose``; with ``--http-audit``, the audit's findings too."""
    if not (diagnose or http_audit):
        return None
    diagnosis = diagnose_document(results_to_dict(result, analysis))
    return with_http_audit(diagnosis, result) if http_audit else diagnosis


def _output_feed(streams: Sequence[OutputConfig], plan: Plan) -> OutputFeed:
    """The ``--out kind=TARGET`` outputs, fed each second; one that fails is noted on stderr."""
    errors = Console(stderr=True)

    def note(line: str) -> None:
        errors.print(
            f"warning: {line}", style="yellow", markup=False, highlight=False, soft_wrap=True
        )

    return OutputFeed(build_outputs(streams), plan_name=plan.name, note=note)


def _cache_under_test(
    text: str | None, allowed_hosts: list[str]
) -> tuple[Dsn | None, RedisWatch | MemcachedWatch | None]:
    """``--cache``: its DSN (on loopback or in the plan's ``allowed_hosts``) and watch,
    connected once: a cache that refuses stops the run here, before any load."""
    if text is None:
        return None, None
    dsn = parse_dsn(text, field="--cache", schemes=tuple(CACHE_SCHEMES))
    check_dsn_scope(dsn, allowed_hosts, field="--cache", allow_with="allowed_hosts")
    watch = cache_watch(dsn)
    try:
        watch.check()
    except TargetError as exc:
        raise TargetError(f"--cache: {exc.message}", hint=exc.hint) from None
    return dsn, watch


def _check_gate(
    db: Path | None, baseline: str | None, fail_on_regression: bool, no_save: bool
) -> None:
    """Refuse gate options that cannot work, before any load is sent."""
    if fail_on_regression and baseline is None:
        raise ConfigError("--fail-on-regression: needs --baseline NAME to compare with")
    if baseline is not None and no_save:
        raise ConfigError("--baseline: the run must be saved to be compared; drop --no-save")
    if baseline is not None:
        check_baseline(db, baseline)


def _gate(
    console: Console,
    db: Path | None,
    baseline: str | None,
    run_id: str | None,
    fail_on_regression: bool,
) -> Comparison | NotComparable | None:
    """Compare the saved run with ``baseline`` and print it; None without a baseline."""
    if baseline is None or run_id is None:  # checked before the run: see _check_gate
        return None
    result = compare_with_baseline(db, baseline, run_id)
    console.print(render_comparison(result))
    return result
