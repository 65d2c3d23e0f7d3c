"""How to run each third-party load generator and read what it measured.

A builder returns an ``Invocation``: the command line plus a ``parse`` function that
turns the tool's output (stdout and the files it wrote into ``workdir``) into
``Figures``. Redline's own invocations live in ``redline_generator.py``.

Glossary:
    closed model: a fixed number of virtual users (connections), each sending its
        next request when the previous one is answered (wrk, hey, k6 constant-vus).
    open model: requests start at a fixed rate whatever the answers do (k6
        constant-arrival-rate, redline ``--rate``); missed starts are dropped iterations.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from targets import BENCH_DIR

#: Where setup.sh installs k6 and Locust, apart from redline's own environment.
TOOLS_BIN = BENCH_DIR / ".tools" / "bin"
#: Percentile keys every parser fills when the tool reports them, in microseconds.
PERCENTILES = ("p50", "p90", "p99", "max")
#: Latency kind for a tool that reports one latency, measured from when it sent.
TOOL_LATENCY = "sent"


@dataclass(frozen=True)
class Figures:
    """What a generator says it did in one run."""

    #: Completed requests (any status).
    count: int
    #: Requests per second as the tool computes it.
    rps: float
    #: Transport errors plus non-2xx answers.
    errors: int = 0
    #: Open model: iteration starts that could not be served; None where not applicable.
    dropped: int | None = None
    #: Latency percentiles in microseconds by kind ("sent", "service", "response").
    latency_us: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Anything else worth keeping in the results file.
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Invocation:
    """One generator command and the function that reads its results."""

    tool: str
    argv: list[str]
    parse: Callable[[str], Figures]
    #: Extra wall-clock allowance past the load duration for startup and shutdown.
    slack_s: float = 15.0


@dataclass(frozen=True)
class ClosedLoad:
    """A closed-model load: vus connections looping for duration_s."""

    url: str
    vus: int
    duration_s: int


@dataclass(frozen=True)
class OpenLoad:
    """An open-model load: rate_per_s request starts per second for duration_s."""

    url: str
    rate_per_s: int
    duration_s: int
    max_vus: int
    pre_vus: int


def tool_path(name: str) -> str:
    """Return the path of a tool installed by setup.sh into bench/.tools."""
    return str(TOOLS_BIN / name)


# --- wrk -------------------------------------------------------------------------------

WRK_SCRIPT = BENCH_DIR / "wrk" / "report.lua"


def wrk_closed(load: ClosedLoad, workdir: Path) -> Invocation:
    """wrk with one thread and load.vus connections (the reference for benchmark 1)."""
    argv = ["wrk", "-t1", f"-c{load.vus}", f"-d{load.duration_s}s", "-s", str(WRK_SCRIPT)]
    return Invocation("wrk", [*argv, load.url], parse_wrk)


def wrk_paced(load: OpenLoad, workdir: Path) -> Invocation:
    """wrk pacing max_vus connections to about rate_per_s, measuring from each send.

    Each connection waits max_vus/rate seconds before every request. This is a closed
    loop, so while the target stalls no requests are sent and none are late: the
    latency it reports omits the stall (coordinated omission).
    """
    delay_ms = round(1000 * load.max_vus / load.rate_per_s)
    argv = [
        "env", f"WRK_DELAY_MS={delay_ms}",
        "wrk", "-t1", f"-c{load.max_vus}", f"-d{load.duration_s}s", "-s", str(WRK_SCRIPT),
        load.url,
    ]  # fmt: skip
    return Invocation("wrk (paced)", argv, parse_wrk)


def parse_wrk(stdout: str) -> Figures:
    line = next(x for x in stdout.splitlines() if x.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    duration_s = data["duration_us"] / 1e6
    return Figures(
        count=data["requests"],
        rps=data["requests"] / duration_s,
        errors=data["errors"],
        latency_us={TOOL_LATENCY: {k: float(data[k]) for k in (*PERCENTILES, "p99.9")}},
        extra={"duration_s": duration_s},
    )


# --- hey -------------------------------------------------------------------------------

HEY_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
HEY_STATUS = re.compile(r"\[(\d{3})\]\s+(\d+) responses")
HEY_ERRORS = re.compile(r"\[(\d+)\]\s+Get ")
HEY_PERCENTILE = re.compile(r"(\d+)% in ([\d.]+) secs")


def hey_closed(load: ClosedLoad, workdir: Path) -> Invocation:
    """hey with load.vus workers for a fixed duration."""
    argv = ["hey", "-z", f"{load.duration_s}s", "-c", str(load.vus), load.url]
    return Invocation("hey", argv, parse_hey)


def parse_hey(stdout: str) -> Figures:
    by_status = {int(code): int(n) for code, n in HEY_STATUS.findall(stdout)}
    errors = sum(int(n) for n in HEY_ERRORS.findall(stdout))
    percentiles = {f"p{p}": float(s) * 1e6 for p, s in HEY_PERCENTILE.findall(stdout)}
    rps = HEY_RPS.search(stdout)
    if rps is None:
        raise ValueError(f"no 'Requests/sec' in hey output: {stdout[:500]!r}")
    return Figures(
        count=sum(by_status.values()),
        rps=float(rps.group(1)),
        errors=errors + sum(n for code, n in by_status.items() if code >= 300),
        latency_us={TOOL_LATENCY: percentiles},
    )


# --- k6 --------------------------------------------------------------------------------

K6_DIR = BENCH_DIR / "k6"


def k6_invocation(tool: str, script: str, env: dict[str, str], workdir: Path) -> Invocation:
    """k6 running one of bench/k6/*.js, its summary written as JSON by handleSummary."""
    summary = workdir / "k6-summary.json"
    env = {**env, "SUMMARY_PATH": str(summary)}
    argv = [tool_path("k6"), "run", "--quiet", "--no-usage-report", "--no-color"]
    for key, value in env.items():
        argv += ["-e", f"{key}={value}"]
    return Invocation(tool, [*argv, str(K6_DIR / script)], lambda _: parse_k6(summary))


def k6_closed(load: ClosedLoad, workdir: Path) -> Invocation:
    env = {"URL": load.url, "VUS": str(load.vus), "DURATION": f"{load.duration_s}s"}
    return k6_invocation("k6", "closed.js", env, workdir)


def k6_check_extract(load: ClosedLoad, workdir: Path) -> Invocation:
    env = {"URL": load.url, "VUS": str(load.vus), "DURATION": f"{load.duration_s}s"}
    return k6_invocation("k6 (check+extract)", "check_extract.js", env, workdir)


def k6_open(load: OpenLoad, workdir: Path) -> Invocation:
    env = {
        "URL": load.url,
        "RATE": str(load.rate_per_s),
        "DURATION": f"{load.duration_s}s",
        "PRE_VUS": str(load.pre_vus),
        "MAX_VUS": str(load.max_vus),
    }
    return k6_invocation("k6", "open.js", env, workdir)


def k6_metric(metrics: dict[str, dict[str, object]], name: str, key: str) -> float:
    """Return one value of a k6 summary metric; k6 omits metrics that never fired."""
    values = metrics.get(name, {}).get("values", {})
    assert isinstance(values, dict)
    return float(values.get(key, 0))


def parse_k6(summary: Path) -> Figures:
    data = json.loads(summary.read_text())
    metrics = data["metrics"]
    trend = metrics["http_req_duration"]["values"]
    latency = {k: trend[f"p({k[1:]})"] * 1e3 for k in PERCENTILES if f"p({k[1:]})" in trend}
    latency["max"] = trend["max"] * 1e3
    count = int(k6_metric(metrics, "http_reqs", "count"))
    return Figures(
        count=count,
        rps=k6_metric(metrics, "http_reqs", "rate"),
        errors=int(k6_metric(metrics, "http_req_failed", "passes")),
        dropped=int(k6_metric(metrics, "dropped_iterations", "count")),
        latency_us={TOOL_LATENCY: latency},
        extra={
            "iterations": int(k6_metric(metrics, "iterations", "count")),
            "checks_failed": int(k6_metric(metrics, "checks", "fails")),
            "duration_s": data["state"]["testRunDurationMs"] / 1e3,
            "max_vus": int(k6_metric(metrics, "vus_max", "max")),
        },
    )


# --- Locust ----------------------------------------------------------------------------

LOCUSTFILE = BENCH_DIR / "locust" / "locustfile.py"


def locust_closed(load: ClosedLoad, workdir: Path) -> Invocation:
    """Locust FastHttpUser, headless, one process, all users spawned at once.

    Locust's ``-t`` clock starts before its imports finish, so its load lasts about a
    second less than the others'; its rate is computed over the time it did send.
    """
    stats = workdir / "locust.json"
    origin = load.url.rstrip("/")
    argv = [
        tool_path("locust"), "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "-H", origin, "-u", str(load.vus), "-r", str(load.vus), "-t", f"{load.duration_s}s",
        "--json-file", str(stats.with_suffix("")), "--loglevel", "WARNING", "--stop-timeout", "1",
    ]  # fmt: skip
    return Invocation("locust", argv, lambda _: parse_locust(stats), slack_s=30.0)


def histogram_percentile(buckets: dict[float, int], fraction: float) -> float:
    """Return the smallest bucket value at or above fraction of all samples."""
    total, seen = sum(buckets.values()), 0
    for value in sorted(buckets):
        seen += buckets[value]
        if seen >= fraction * total:
            return value
    return max(buckets)


def parse_locust(stats: Path) -> Figures:
    """Read ``--json-file`` (one entry per request name; its CSV can lag the final stats)."""
    entries = json.loads(stats.read_text())
    count = sum(e["num_requests"] for e in entries)
    start = min(e["start_time"] for e in entries)
    last = max(e["last_request_timestamp"] for e in entries)
    buckets: dict[float, int] = {}
    for entry in entries:
        for ms, n in entry["response_times"].items():
            buckets[float(ms)] = buckets.get(float(ms), 0) + n
    latency = {
        f"p{round(q * 100)}": histogram_percentile(buckets, q) * 1e3 for q in (0.5, 0.9, 0.99)
    }
    latency["max"] = max(e["max_response_time"] for e in entries) * 1e3
    return Figures(
        count=count,
        rps=count / (last - start),
        errors=sum(e["num_failures"] for e in entries),
        latency_us={TOOL_LATENCY: latency},
        extra={"duration_s": last - start},
    )


# --- idle connections (benchmark 5 reference) ------------------------------------------


def asyncio_idle(url: str, conns: int, hold_s: int, workdir: Path) -> Invocation:
    """bench/idle_conns.py: a minimal uvloop client holding conns idle keep-alive sockets."""
    argv = [
        sys.executable, str(BENCH_DIR / "idle_conns.py"), url,
        "--conns", str(conns), "--hold-s", str(hold_s),
    ]  # fmt: skip
    return Invocation("asyncio reference", argv, parse_idle, slack_s=60.0)


def parse_idle(stdout: str) -> Figures:
    data = json.loads(stdout.strip().splitlines()[-1])
    return Figures(count=data["opened"], rps=0.0, errors=data["failed"], extra=data)
