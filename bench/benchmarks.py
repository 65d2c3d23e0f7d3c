"""The five benchmarks: which target, which tools, and how each run is recorded.

Tools run interleaved: run 1 of every tool, then run 2 of every tool, and so on, so
that machine noise hits all tools alike. Each run is one ``RunRecord``.

    1 plain-get      closed model, 64 connections, plain GET to nginx
    2 check-extract  closed model, 64 VUs, status check + regex extraction (plan, Python)
    3 open-rate      open model at 5,000 req/s to nginx
    4 stall          open model at 1,000 req/s to a server that stalls 1 s once (queue, drop)
    5 idle-conns     many idle keep-alive connections: memory and time to open
"""

from __future__ import annotations

import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

import generators as gen
import redline_generator as rl
from measure import ProcessUsage, run_measured
from targets import (
    TARGET_CORE,
    NginxConfig,
    NginxTarget,
    StallConfig,
    StallTarget,
    nofile_hard_limit,
    require_loopback,
)

C = TypeVar("C")

#: Connections in the closed-model benchmarks (1 and 2).
CLOSED_VUS = 64
#: Benchmark 3's arrival rate and k6's VU pool for it.
OPEN_RATE_PER_S = 5_000
OPEN_PRE_VUS = 100
OPEN_MAX_VUS = 1_000
#: Redline's VU cap in benchmark 3 (the CLI shape in the issue).
OPEN_REDLINE_MAX_VUS = 2_000
#: Benchmark 4's arrival rate and concurrency cap. With 64 connections all stuck in the
#: stall, the ~1,000 starts due meanwhile cannot be sent on time: redline (queue) sends
#: them when a VU frees up and times them from their intended start (response time);
#: redline (drop) and k6 count them as dropped; wrk simply does not send them.
STALL_RATE_PER_S = 1_000
STALL_MAX_VUS = 64
STALL_PRE_VUS = 16
#: Benchmark 5: connections wanted, and the small run whose RSS is the baseline.
IDLE_CONNS = 50_000
IDLE_BASELINE_CONNS = 100
#: Benchmark 5 holds the connections at least this long (longer with --duration, at
#: most the plan's 60 s think-time limit): opening 50,000 takes redline ~8-14 s.
IDLE_MIN_HOLD_S = 20
IDLE_MAX_HOLD_S = 60
#: Redline's worker processes in benchmark 5, all on the generator core; each has its
#: own RLIMIT_NOFILE.
IDLE_REDLINE_WORKERS = 4
#: Benchmark 5's nginx: the file limit is per process, so four workers (all on the
#: target core) with room for ~19,000 connections each; reuseport spreads them evenly.
IDLE_NGINX = NginxConfig(
    workers=4, worker_connections=19_000, rlimit_nofile=20_000, reuseport=True, core=TARGET_CORE
)
#: File descriptors kept free (listening socket, logs, pipes) when capping connections.
NOFILE_HEADROOM = 500


@dataclass(frozen=True)
class BenchOptions:
    """Options shared by every benchmark, from the command line."""

    runs: int
    duration_s: int
    idle_conns: int
    skip_redline: bool


@dataclass(frozen=True)
class Case:
    """One tool in one benchmark: how to build its command for a target URL."""

    tool: str
    build: Callable[[str, Path], gen.Invocation]


@dataclass
class RunRecord:
    """One run of one tool: what the process used and what the tool reported."""

    tool: str
    run: int
    ok: bool
    returncode: int | None = None
    wall_s: float | None = None
    cpu_s: float | None = None
    count: int | None = None
    rps: float | None = None
    errors: int | None = None
    dropped: int | None = None
    #: Whole life: wait4 CPU of the tree over all requests the tool counted.
    cpu_us_per_req: float | None = None
    #: During load: CPU after the load mark over the requests after it (see record_run).
    load_cpu_s: float | None = None
    load_cpu_us_per_req: float | None = None
    peak_rss_kib: int | None = None
    peak_pss_kib: int | None = None
    latency_us: dict[str, dict[str, float]] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)
    failure: str | None = None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def record_run(tool: str, run: int, usage: ProcessUsage, invocation: gen.Invocation) -> RunRecord:
    """Combine the measured process usage with the tool's own figures."""
    record = RunRecord(tool=tool, run=run, ok=False, returncode=usage.returncode)
    record.wall_s, record.cpu_s = usage.wall_s, usage.cpu_s
    record.peak_rss_kib = usage.peak_tree_rss_kib or usage.max_rss_kib
    record.peak_pss_kib = usage.peak_tree_pss_kib or None
    if usage.timed_out or usage.returncode != 0:
        record.failure = f"exit {usage.returncode}, timed out={usage.timed_out}: " + tail(usage)
        return record
    try:
        figures = invocation.parse(usage.stdout)
    except (OSError, ValueError, KeyError, StopIteration, IndexError):
        record.failure = traceback.format_exc(limit=1) + tail(usage)
        return record
    record.ok = True
    record.count, record.rps, record.errors = figures.count, figures.rps, figures.errors
    record.dropped, record.latency_us, record.extra = (
        figures.dropped,
        figures.latency_us,
        figures.extra,
    )
    if figures.count:
        record.cpu_us_per_req = usage.cpu_s * 1e6 / figures.count
    add_load_cpu(record, usage, figures.count)
    return record


def add_load_cpu(record: RunRecord, usage: ProcessUsage, count: int) -> None:
    """Fill the during-load CPU figures from the load mark, if there was one.

    The load phase's CPU is the final wait4 CPU less the tree's CPU at the first poll
    at which the target had seen load; its requests are the tool's count less those
    the target had seen by then. The generator's shutdown (writing its report) stays in.
    """
    mark = usage.load_mark
    if mark is None:
        return
    record.extra["load_mark"] = asdict(mark)
    record.load_cpu_s = usage.cpu_s - mark.cpu_s
    load_count = count - mark.requests_seen
    if load_count > 0:
        record.load_cpu_us_per_req = record.load_cpu_s * 1e6 / load_count


def tail(usage: ProcessUsage, chars: int = 800) -> str:
    return (usage.stderr.strip() or usage.stdout.strip())[-chars:]


class NginxLoadProbe:
    """How many load requests nginx has received since the probe was made.

    stub_status counts every request, the harness's own status requests included (each
    reading counts itself), so the baseline is read before the generator starts and
    every status request since is subtracted. A failed reading is subtracted too, as if
    nginx had counted it: the probe may then read one low, never one high.
    """

    def __init__(self, nginx: NginxTarget):
        self._nginx = nginx
        self._baseline = nginx.status().requests
        self._asked = 0

    def __call__(self) -> int:
        self._asked += 1
        try:
            requests = self._nginx.status().requests
        except (OSError, ValueError, IndexError):  # refused or cut short under load
            return 0
        return requests - self._baseline - self._asked


ProbeFactory = Callable[[], Callable[[], int]]


def run_case(
    case: Case, url: str, run: int, duration_s: int, probe: ProbeFactory | None = None
) -> RunRecord:
    """Run one tool once against url in a fresh working directory.

    probe, when given, is called just before the generator starts, for the load probe
    that marks when the target first sees load (see measure.run_measured).
    """
    require_loopback(url)
    with tempfile.TemporaryDirectory(prefix="redline-bench-") as workdir:
        invocation = case.build(url, Path(workdir))
        timeout_s = duration_s + invocation.slack_s
        usage = run_measured(
            invocation.argv,
            timeout_s=timeout_s,
            cwd=Path(workdir),
            load_probe=None if probe is None else probe(),
        )
        return record_run(case.tool, run, usage, invocation)


def interleave(cases: list[C], runs: int) -> Iterator[tuple[int, C]]:
    """Yield (run, case) as run 1 of every case, then run 2 of every case, and so on."""
    for run in range(1, runs + 1):
        for case in cases:
            yield run, case


def progress(record: RunRecord) -> None:
    """Print one line per finished run so a long benchmark shows it is alive."""
    if record.ok and "conns" in record.extra:
        opened = record.extra.get("open_from_spawn_s")
        seconds = "never" if opened is None else f"{opened:.2f} s"
        line = (
            f"{record.extra['nginx_peak_active']} conns open after {seconds}, "
            f"peak RSS {(record.peak_rss_kib or 0) / 1024:.1f} MiB"
        )
    elif record.ok:
        cpu = f"{record.cpu_us_per_req:.2f}" if record.cpu_us_per_req else "-"
        line = f"{record.count} req, {record.rps:,.0f} req/s, CPU µs/req "
        if record.load_cpu_us_per_req:
            line += f"{record.load_cpu_us_per_req:.2f} during load, "
        line += f"{cpu} whole life"
        if record.dropped:
            line += f", {record.dropped} dropped"
    else:
        line = f"FAILED: {(record.failure or '').splitlines()[-1:]}"
    if record.ok and record.errors:
        line += f", {record.errors} errors {record.extra.get('outcomes') or ''}"
    self_check = record.extra.get("self_check")
    if isinstance(self_check, dict) and self_check.get("reasons"):
        line += f"; redline says: {'; '.join(self_check['reasons'])}"
    print(f"  run {record.run} {record.tool:<22} {line}", flush=True)


# --- benchmarks 1-3: nginx, one target for all runs ------------------------------------


ClosedBuilder = Callable[[gen.ClosedLoad, Path], gen.Invocation]


def closed(build: ClosedBuilder, options: BenchOptions) -> Callable[[str, Path], gen.Invocation]:
    """Bind a closed-model builder to CLOSED_VUS and the run duration."""
    return lambda url, wd: build(gen.ClosedLoad(url, CLOSED_VUS, options.duration_s), wd)


def closed_cases(options: BenchOptions) -> list[Case]:
    cases = [Case("wrk", closed(gen.wrk_closed, options))]
    if not options.skip_redline:
        cases.append(Case("redline", closed(rl.redline_closed, options)))
    cases += [
        Case("k6", closed(gen.k6_closed, options)),
        Case("hey", closed(gen.hey_closed, options)),
        Case("locust", closed(gen.locust_closed, options)),
    ]
    return cases


def check_cases(options: BenchOptions) -> list[Case]:
    cases = [Case("wrk", closed(gen.wrk_closed, options))]
    if not options.skip_redline:
        cases.append(Case("redline (plan)", closed(rl.redline_check_extract, options)))
        cases.append(Case("redline (python)", closed(rl.redline_check_extract_python, options)))
    cases.append(Case("k6 (check+extract)", closed(gen.k6_check_extract, options)))
    return cases


def open_cases(options: BenchOptions) -> list[Case]:
    def load(url: str, max_vus: int) -> gen.OpenLoad:
        return gen.OpenLoad(url, OPEN_RATE_PER_S, options.duration_s, max_vus, OPEN_PRE_VUS)

    cases = [Case("k6", lambda url, wd: gen.k6_open(load(url, OPEN_MAX_VUS), wd))]
    if not options.skip_redline:
        build = lambda url, wd: rl.redline_open(load(url, OPEN_REDLINE_MAX_VUS), wd)  # noqa: E731
        cases.append(Case("redline", build))
    return cases


def run_on_nginx(cases: list[Case], options: BenchOptions) -> list[RunRecord]:
    records = []
    with NginxTarget(NginxConfig()) as nginx:
        for run, case in interleave(cases, options.runs):
            probe = lambda: NginxLoadProbe(nginx)  # noqa: E731
            records.append(run_case(case, nginx.url, run, options.duration_s, probe))
            progress(records[-1])
    return records


# --- benchmark 4: a fresh stall server for every run ------------------------------------


def stall_cases(options: BenchOptions) -> list[Case]:
    def load(url: str) -> gen.OpenLoad:
        return gen.OpenLoad(url, STALL_RATE_PER_S, options.duration_s, STALL_MAX_VUS, STALL_PRE_VUS)

    cases = []
    if not options.skip_redline:
        cases += [
            Case("redline (queue)", lambda u, wd: rl.redline_open(load(u), wd, "queue")),
            Case("redline (drop)", lambda u, wd: rl.redline_open(load(u), wd, "drop")),
        ]
    cases += [
        Case("wrk (paced)", lambda u, wd: gen.wrk_paced(load(u), wd)),
        Case("k6", lambda u, wd: gen.k6_open(load(u), wd)),
    ]
    return cases


def run_on_stall(cases: list[Case], options: BenchOptions) -> list[RunRecord]:
    """Each run gets its own stall server, timed from the first request it receives."""
    records = []
    # The stall sits 40 % into the run (4 s of 10 s), so short trial runs still see it.
    stall_after_s = min(StallConfig.stall_after_s, 0.4 * options.duration_s)
    config = StallConfig(stall_after_s=stall_after_s, max_life_s=options.duration_s + 60)
    for run, case in interleave(cases, options.runs):
        with StallTarget(config) as target:
            records.append(run_case(case, target.url, run, options.duration_s))
        progress(records[-1])
    return records


# --- benchmark 5: idle connections -------------------------------------------------------


def local_port_count() -> int:
    """Return how many ephemeral ports a client has towards one address and port."""
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(high) - int(low) + 1


IdleBuilder = Callable[[str, int, int, Path], gen.Invocation]


@dataclass(frozen=True)
class IdleCase:
    """One tool in benchmark 5: build(url, conns, hold_s, workdir) gives its command.

    processes: how many processes hold the connections (each has its own file limit);
    spreads_sources: whether it spreads them over loopback source addresses.
    """

    tool: str
    build: IdleBuilder
    processes: int = 1
    spreads_sources: bool = False


def idle_conn_cap(wanted: int, case: IdleCase) -> tuple[int, str | None]:
    """Cap wanted connections by what this machine allows case; return (conns, note or None).

    One process cannot hold more sockets than its hard RLIMIT_NOFILE (raising it needs
    CAP_SYS_RESOURCE), and one source address cannot open more connections to one
    address and port than there are ephemeral ports.
    """
    nofile = f"hard RLIMIT_NOFILE ({nofile_hard_limit():,})"
    if case.processes > 1:
        nofile += f" × {case.processes} processes"
    limits = {nofile: case.processes * (nofile_hard_limit() - NOFILE_HEADROOM)}
    if not case.spreads_sources:
        ports = f"ephemeral port range ({local_port_count():,})"
        limits[ports] = local_port_count() - NOFILE_HEADROOM
    reason, cap = min(limits.items(), key=lambda item: item[1])
    notes = []
    if wanted > cap:
        notes.append(f"{case.tool}: capped from {wanted:,} to {cap:,} by {reason}")
    if not case.spreads_sources and min(wanted, cap) > local_port_count() // 2:
        # Since Linux 4.6 connect() tries even ports first (bind() gets the odd ones); past
        # half the range each connect() scans the full even half, so opening slows sharply.
        notes.append(
            f"{case.tool}: more than half of the {local_port_count():,} ephemeral ports in "
            "use: the kernel's port search dominates its time to open"
        )
    return min(wanted, cap), "; ".join(notes) or None


def idle_cases(options: BenchOptions) -> list[IdleCase]:
    cases = [IdleCase("asyncio reference", gen.asyncio_idle)]
    if not options.skip_redline:
        workers = IDLE_REDLINE_WORKERS

        def build(url: str, conns: int, hold_s: int, workdir: Path) -> gen.Invocation:
            return rl.redline_idle(url, conns, hold_s, workdir, workers)

        cases.append(IdleCase("redline", build, processes=workers, spreads_sources=True))
    return cases


class OpenWatcher:
    """Polls nginx's active connections and remembers when they first reached a goal."""

    def __init__(self, nginx: NginxTarget, goal: int):
        self._nginx = nginx
        self._goal = goal
        self.reached_s: float | None = None
        self.peak = 0

    def __call__(self, elapsed_s: float) -> None:
        if self.reached_s is not None:
            return
        try:
            active = self._nginx.active_connections()
        except (OSError, ValueError):  # status request refused under load: try next poll
            return
        self.peak = max(self.peak, active)
        if active >= self._goal:
            self.reached_s = elapsed_s


def run_idle_case(
    nginx: NginxTarget, case: IdleCase, run: int, conns: int, hold_s: int
) -> RunRecord:
    """Run one idle-connection case, watching nginx and the generator's RSS."""
    with tempfile.TemporaryDirectory(prefix="redline-bench-") as workdir:
        invocation = case.build(nginx.url, conns, hold_s, Path(workdir))
        watcher = OpenWatcher(nginx, conns)
        usage = run_measured(
            invocation.argv,
            timeout_s=hold_s + invocation.slack_s,
            cwd=Path(workdir),
            sample_rss=True,
            on_poll=watcher,
        )
        record = record_run(f"{case.tool} @{conns}", run, usage, invocation)
    record.extra.update(
        conns=conns,
        hold_s=hold_s,
        open_from_spawn_s=watcher.reached_s,
        nginx_peak_active=watcher.peak,
    )
    record.cpu_us_per_req = None
    return record


def run_idle(cases: list[IdleCase], options: BenchOptions) -> list[RunRecord]:
    """Each case at IDLE_BASELINE_CONNS, then at as many as it may open, on one nginx."""
    caps = {case.tool: idle_conn_cap(options.idle_conns, case) for case in cases}
    for _, note in caps.values():
        if note:
            print(f"  note: {note}", flush=True)
    hold_s = min(max(options.duration_s, IDLE_MIN_HOLD_S), IDLE_MAX_HOLD_S)
    records = []
    with NginxTarget(IDLE_NGINX) as nginx:
        for run, case in interleave(cases, options.runs):
            conns, note = caps[case.tool]
            for n in (IDLE_BASELINE_CONNS, conns):
                record = run_idle_case(nginx, case, run, n, hold_s)
                record.extra["note"] = note
                records.append(record)
                progress(record)
    return records


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its cases and how to run them against its target."""

    number: int
    name: str
    title: str
    cases: Callable[[BenchOptions], list]
    run: Callable[[list, BenchOptions], list[RunRecord]]


BENCHMARKS = [
    Benchmark(1, "plain-get", "Plain GET, closed model, 64 conns", closed_cases, run_on_nginx),
    Benchmark(2, "check-extract", "Status check + extraction, 64 VUs", check_cases, run_on_nginx),
    Benchmark(3, "open-rate", f"Open model at {OPEN_RATE_PER_S:,} req/s", open_cases, run_on_nginx),
    Benchmark(4, "stall", "1 s server stall, open model 1,000 req/s", stall_cases, run_on_stall),
    Benchmark(5, "idle-conns", "Idle keep-alive connections", idle_cases, run_idle),
]
