"""Benchmark redline against wrk, k6, hey and Locust on this machine.

Run ``bash bench/setup.sh`` once, then::

    uv run python bench/run.py                      # all five, 3 runs of 10 s each
    uv run python bench/run.py --only plain-get --skip-redline --runs 3

The generator runs on core 0 and the target (nginx, or the stall server) on core 1.
Tools run interleaved, run by run. The results go to bench/results/<timestamp>.json
and a Markdown summary is printed for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks import BENCHMARKS, IDLE_CONNS, Benchmark, BenchOptions, RunRecord
from generators import tool_path
from redline_generator import REDLINE
from report import RENDERERS, summarize
from targets import BENCH_DIR, nofile_hard_limit, raise_nofile_limit

#: Version history of the results file:
#: 1 - first layout: machine, options, and per benchmark its runs and per-tool medians.
#: 2 - runs and medians add load_cpu_us_per_req (CPU during load) and peak_pss_kib; runs
#:     add load_cpu_s and extra.load_mark.
SCHEMA_VERSION = 2
RESULTS_DIR = BENCH_DIR / "results"
#: Shortest --duration redline's CLI accepts.
REDLINE_MIN_DURATION_S = 10
#: Executables each tool needs; checked before anything starts.
REQUIRED_TOOLS = {
    "wrk": "wrk",
    "hey": "hey",
    "nginx": "nginx",
    "taskset": "taskset",
    "k6": tool_path("k6"),
    "locust": tool_path("locust"),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    names = [b.name for b in BENCHMARKS]
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="benchmarks: " + ", ".join(f"{b.number}={b.name}" for b in BENCHMARKS),
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per tool (median taken)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help=f"run only these ({', '.join(names)})"
    )
    parser.add_argument("--skip-redline", action="store_true", help="third-party tools only")
    parser.add_argument("--idle-conns", type=int, default=IDLE_CONNS, help="benchmark 5 size")
    parser.add_argument("--out-dir", type=Path, default=RESULTS_DIR)
    return parser.parse_args(argv)


def select(only: list[str] | None) -> list[Benchmark]:
    """Return the benchmarks named (by name or number) in only, or all of them."""
    if not only:
        return list(BENCHMARKS)
    wanted = {w.strip() for item in only for w in item.split(",")}
    known = {b.name for b in BENCHMARKS} | {str(b.number) for b in BENCHMARKS}
    unknown = sorted(wanted - known)
    if unknown:
        raise SystemExit(f"--only: unknown benchmark {unknown}; choose from {sorted(known)}")
    return [b for b in BENCHMARKS if b.name in wanted or str(b.number) in wanted]


def check_duration(duration_s: int, skip_redline: bool) -> None:
    if not skip_redline and duration_s < REDLINE_MIN_DURATION_S:
        raise SystemExit(
            f"--duration: redline runs last {REDLINE_MIN_DURATION_S} s or more, got {duration_s}; "
            "hint: add --skip-redline for shorter trial runs"
        )


def check_tools(skip_redline: bool) -> None:
    needed = dict(REQUIRED_TOOLS)
    if not skip_redline:
        needed["redline"] = REDLINE
    missing = [name for name, exe in needed.items() if not shutil.which(exe)]
    if missing:
        raise SystemExit(f"missing tools {missing}; hint: run `bash bench/setup.sh` first")


def version_of(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except OSError as error:
        return f"unavailable: {error}"
    return (done.stdout + done.stderr).strip().splitlines()[0] if done.stdout + done.stderr else ""


def machine_info() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "nofile_hard_limit": nofile_hard_limit(),
        "ip_local_port_range": Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split(),
        "versions": {
            "wrk": version_of(["wrk", "--version"]),
            "hey": version_of(["dpkg-query", "-W", "-f=${Version}", "hey"]),
            "nginx": version_of(["nginx", "-v"]),
            "k6": version_of([tool_path("k6"), "version"]),
            "locust": version_of([tool_path("locust"), "--version"]),
        },
    }


def run_all(benchmarks: list[Benchmark], options: BenchOptions) -> dict[str, list[RunRecord]]:
    results = {}
    for benchmark in benchmarks:
        print(f"== {benchmark.number} {benchmark.name}: {benchmark.title}", flush=True)
        results[benchmark.name] = benchmark.run(benchmark.cases(options), options)
    return results


def markdown(results: dict[str, list[RunRecord]], options: BenchOptions, command: str) -> str:
    titles = {b.name: f"{b.number}. {b.title}" for b in BENCHMARKS}
    parts = [
        f"Command: `{command}` — {options.runs} runs of {options.duration_s} s per tool, "
        "interleaved; generator on core 0, target on core 1; medians shown.",
    ]
    for name, records in results.items():
        parts.append(f"### {titles[name]}\n\n{RENDERERS[name](records)}")
    return "\n\n".join(parts)


def write_results(
    results: dict[str, list[RunRecord]], options: BenchOptions, command: str, out_dir: Path
) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "schema_version": SCHEMA_VERSION,
        "created": stamp,
        "command": command,
        "options": vars(options),
        "machine": machine_info(),
        "benchmarks": {
            name: {"medians": summarize(records), "runs": [r.to_json() for r in records]}
            for name, records in results.items()
        },
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    benchmarks = select(args.only)
    check_duration(args.duration, args.skip_redline)
    check_tools(args.skip_redline)
    raise_nofile_limit()
    options = BenchOptions(
        runs=args.runs,
        duration_s=args.duration,
        idle_conns=args.idle_conns,
        skip_redline=args.skip_redline,
    )
    command = shlex.join(["uv", "run", "python", "bench/run.py", *argv])
    results = run_all(benchmarks, options)
    path = write_results(results, options, command, args.out_dir)
    print()
    print(markdown(results, options, command))
    print(f"\nResults: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
