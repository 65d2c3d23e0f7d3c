"""How to run redline for each benchmark and read its results file.

FINALIZE (lead): this is the one module to adjust as redline's CLI and results
layout settle. Checked against the engine draft (results schema_version 2, the Plan
model in src/redline/plan/), but still to confirm on a working engine:

1. ``RESULT_KEYS``: where each figure sits in ``--out`` JSON.
2. ``redline_idle``: benchmark 5 uses bench/scenarios/idle_conns.toml (one request,
   then think time for the whole run) as its connections-only mode.
3. bench/scenarios/*.toml and *.py: the plan schema and the Python scenario API.

The commands run the project's own entry point (``.venv/bin/redline``, beside the
Python running this harness) rather than ``uv run``, so uv's CPU is not counted.
"""

from __future__ import annotations

import json
import string
import sys
from pathlib import Path

from generators import ClosedLoad, Figures, Invocation, OpenLoad
from targets import BENCH_DIR

#: The redline console script of the environment running this harness.
REDLINE = str(Path(sys.executable).with_name("redline"))
#: The benchmark 2 plan; $base_url and $duration_s are filled in per run.
CHECK_EXTRACT_PLAN = BENCH_DIR / "scenarios" / "check_extract.toml"
#: The same as a Python scenario; $base_url and $duration_s are filled in per run.
CHECK_EXTRACT_SCENARIO = BENCH_DIR / "scenarios" / "check_extract.py"
#: The benchmark 5 plan; $base_url, $vus, $workers and $hold_s are filled in per run.
IDLE_CONNS_PLAN = BENCH_DIR / "scenarios" / "idle_conns.toml"
#: Longest think time a plan accepts.
MAX_THINK_TIME_S = 60

#: Where each figure sits in redline's results JSON (schema_version 2, as written by
#: src/redline/report/_results_json.py), as a path of keys; latencies are microseconds.
#: FINALIZE: re-check when the layout changes; a missing optional key reads as None.
RESULT_KEYS: dict[str, tuple[str, ...]] = {
    "count": ("summary", "total", "count"),
    "rps": ("summary", "total", "rps"),
    "errors": ("summary", "total", "failures"),
    "dropped": ("summary", "dropped_iterations"),
    **{
        f"{kind}_{stat}": ("summary", "total", kind, stat)
        for kind in ("service", "response")
        for stat in ("p50", "p90", "p99", "p99.9", "max")
    },
}

#: Figures a results file must have; the rest may be absent.
REQUIRED_KEYS = ("count", "rps")


def dig(data: object, path: tuple[str, ...]) -> float | None:
    """Return the number at path inside nested dicts, or None if any key is missing."""
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return float(data) if isinstance(data, int | float) else None


def read_redline_result(path: Path) -> Figures:
    """Read redline's ``--out`` JSON into Figures (latency by kind, microseconds)."""
    data = json.loads(path.read_text())
    values = {name: dig(data, keys) for name, keys in RESULT_KEYS.items()}
    missing = [name for name in REQUIRED_KEYS if values[name] is None]
    if missing:
        raise KeyError(f"redline results {path} lack {missing}; adjust RESULT_KEYS")
    latency: dict[str, dict[str, float]] = {}
    for name, value in values.items():
        kind, _, stat = name.partition("_")
        if kind in ("service", "response") and value is not None:
            latency.setdefault(kind, {})[stat] = value
    dropped = values["dropped"]
    # Kept in the results file: what failed, and redline's own verdict on whether the
    # generator kept up (loop lag, CPU share), which explains odd latencies.
    extra = {
        "outcomes": data.get("summary", {}).get("total", {}).get("outcomes"),
        "self_check": data.get("self_check"),
    }
    return Figures(
        count=int(values["count"] or 0),
        rps=float(values["rps"] or 0.0),
        errors=int(values["errors"] or 0),
        dropped=None if dropped is None else int(dropped),
        latency_us=latency,
        extra=extra,
    )


def redline_invocation(tool: str, args: list[str], workdir: Path) -> Invocation:
    out = workdir / "redline.json"
    argv = [REDLINE, "run", *args, "--out", str(out), "--quiet"]
    return Invocation(tool, argv, lambda _: read_redline_result(out))


def redline_closed(load: ClosedLoad, workdir: Path) -> Invocation:
    """Benchmark 1: plain GET, closed model, one worker."""
    args = [load.url, "--vus", str(load.vus), "--duration", f"{load.duration_s}s"]
    return redline_invocation("redline", [*args, "--workers", "1"], workdir)


def fill_plan(template: Path, workdir: Path, **values: object) -> Path:
    """Write template (a plan or scenario with $placeholders) filled with values into workdir."""
    plan = workdir / template.name
    plan.write_text(string.Template(template.read_text()).substitute(values))
    return plan


def redline_check_extract(load: ClosedLoad, workdir: Path) -> Invocation:
    """Benchmark 2: the check_extract plan, its URL and duration filled in."""
    base_url = load.url.rstrip("/")
    plan = fill_plan(CHECK_EXTRACT_PLAN, workdir, base_url=base_url, duration_s=load.duration_s)
    return redline_invocation("redline (plan)", [str(plan)], workdir)


def redline_check_extract_python(load: ClosedLoad, workdir: Path) -> Invocation:
    """Benchmark 2: the same work as a Python scenario (an async iteration function)."""
    base_url = load.url.rstrip("/")
    scenario = fill_plan(
        CHECK_EXTRACT_SCENARIO, workdir, base_url=base_url, duration_s=load.duration_s
    )
    return redline_invocation("redline (python)", [str(scenario)], workdir)


def redline_open(load: OpenLoad, workdir: Path, on_busy: str | None = None) -> Invocation:
    """Benchmarks 3 and 4: open model at load.rate_per_s, one worker.

    on_busy: when every VU is busy, "drop" the arrival (counted as dropped, as k6 does;
    redline's default) or "queue" it for the next free VU, its response time counting
    from its intended start; None leaves redline's default.
    """
    args = [
        load.url, "--rate", f"{load.rate_per_s}/s", "--duration", f"{load.duration_s}s",
        "--max-vus", str(load.max_vus), "--workers", "1",
    ]  # fmt: skip
    if on_busy is not None:
        args += ["--on-busy", on_busy]
    tool = "redline" if on_busy is None else f"redline ({on_busy})"
    return redline_invocation(tool, args, workdir)


def redline_idle(url: str, conns: int, hold_s: int, workdir: Path, workers: int) -> Invocation:
    """Benchmark 5: open conns keep-alive connections and hold them idle for hold_s.

    The idle_conns plan has each VU send one request and then think for the whole run,
    so its connection stays open and idle. workers processes share the VUs; each has
    its own RLIMIT_NOFILE, and from 10,000 connections a worker redline spreads them
    over loopback source addresses 127.0.x.y, so ephemeral ports do not run out.
    """
    if hold_s > MAX_THINK_TIME_S:
        raise ValueError(f"hold_s {hold_s} above the plan's think_time limit {MAX_THINK_TIME_S}")
    base_url = url.rstrip("/")
    plan = fill_plan(
        IDLE_CONNS_PLAN, workdir, base_url=base_url, vus=conns, hold_s=hold_s, workers=workers
    )
    invocation = redline_invocation("redline", [str(plan)], workdir)
    return Invocation(invocation.tool, invocation.argv, invocation.parse, slack_s=60.0)
