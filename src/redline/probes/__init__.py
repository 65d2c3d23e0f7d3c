"""Evidence collectors, one module per source.

Each probe reads its source when asked and returns plain figures; none starts
a thread or knows of another. :class:`redline.metrics.ResourceSampler` calls
them once a second during a run.

- :class:`HostProbe`: the machine's CPU, load, memory, context switches,
  network and TCP states, from ``/proc``.
- :class:`ProcessTreeProbe`: a process and its descendants (the server under
  test): CPU (with the busiest process and thread), RSS/USS, threads, file
  descriptors, I/O, TCP connections, usable cores and its cgroup's throttling,
  from ``/proc``, netlink ``sock_diag`` and ``/sys/fs/cgroup``.
- :func:`host_info`: the machine's fixed figures (cores, memory, ephemeral
  ports, ``somaxconn``, our open-files limit), once per run.
- CPU profiles of Python programs: :func:`profile_pid` (py-spy, attached),
  :func:`profile_command` (a program redline starts; py-spy or pyinstrument
  in-process), :class:`ProfileSchedule` (one profile per steady window of a
  run), all as :class:`StackSamples`; :func:`profile_memory_command` (memray
  and tracemalloc in the program: :class:`MemoryProfile`); :func:`profile_perf`
  (perf, for servers that are not Python).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from redline.probes._gil import GilReport, ThreadGil
from redline.probes._host import HostProbe, host_info
from redline.probes._loop_watch import Blocker, BlockingReport
from redline.probes._memory import MemoryProfile, profile_memory_command
from redline.probes._perf import perf_available, profile_perf
from redline.probes._pid import process_exists
from redline.probes._process import ProcessTreeProbe
from redline.probes._profile_command import profile_command, profile_running
from redline.probes._profile_schedule import (
    ProfileSchedule,
    ProfileWindow,
    WindowProfile,
    steady_windows,
)
from redline.probes._pyspy import CpuProfile, PySpyConfig, profile_pid
from redline.probes._query_samples import (
    QuerySample,
    QuerySamples,
    samples_from_document,
    samples_from_log,
)
from redline.probes._stacks import Frame, Hotspot, ShareChange, StackSamples, share_changes

if TYPE_CHECKING:
    from redline.probes._db_analysis import (
        MySqlAnalysis,
        SqliteAnalysis,
        analyze_mysql,
        analyze_sqlite,
    )
    from redline.probes._pg_activity import PostgresActivityProbe, StatementWatch
    from redline.probes._pg_analysis import PostgresAnalysis, analyze_postgres

#: The database probes load drivers and an SQL parser (half the CLI's start-up):
#: they are imported on first use, so commands that touch no database start faster.
_LAZY = {
    "MySqlAnalysis": "redline.probes._db_analysis",
    "SqliteAnalysis": "redline.probes._db_analysis",
    "analyze_mysql": "redline.probes._db_analysis",
    "analyze_sqlite": "redline.probes._db_analysis",
    "PostgresActivityProbe": "redline.probes._pg_activity",
    "StatementWatch": "redline.probes._pg_activity",
    "PostgresAnalysis": "redline.probes._pg_analysis",
    "analyze_postgres": "redline.probes._pg_analysis",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "Blocker",
    "BlockingReport",
    "CpuProfile",
    "Frame",
    "GilReport",
    "HostProbe",
    "MySqlAnalysis",
    "MemoryProfile",
    "Hotspot",
    "PostgresActivityProbe",
    "PostgresAnalysis",
    "ProcessTreeProbe",
    "ProfileSchedule",
    "ProfileWindow",
    "PySpyConfig",
    "QuerySample",
    "QuerySamples",
    "ShareChange",
    "SqliteAnalysis",
    "StackSamples",
    "StatementWatch",
    "ThreadGil",
    "WindowProfile",
    "analyze_mysql",
    "analyze_postgres",
    "analyze_sqlite",
    "samples_from_document",
    "samples_from_log",
    "host_info",
    "perf_available",
    "process_exists",
    "profile_command",
    "profile_memory_command",
    "profile_perf",
    "profile_pid",
    "profile_running",
    "share_changes",
    "steady_windows",
]
