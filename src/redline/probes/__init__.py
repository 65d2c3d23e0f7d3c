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
- :func:`audit_http_cache`: how the plan's endpoints answer caches (a few requests
  each after the load, not during it): :class:`HttpCacheAudit`.
- The database under test during a run (``redline run --db DSN``), by the DSN's
  scheme (:data:`RUN_DATABASE_PROBES`): :func:`statement_watch` (the statements
  the run caused) and :func:`activity_probe` (the database each second).
- The cache under test during a run (``redline run --cache DSN``), by the DSN's
  scheme (:data:`CACHE_SCHEMES`): :func:`cache_watch` (its settings; Redis's
  slowlog during the run) and :func:`cache_activity_probe` (the cache each second).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from redline.errors import ConfigError
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
from redline.probes._system import (
    SYSCTLS,
    FakeSystem,
    ListenSocket,
    LiveSystem,
    SupportsWrite,
    SystemFacts,
    SystemSource,
    read_system,
)

if TYPE_CHECKING:
    from redline.plan import Dsn
    from redline.probes._cache_activity import (
        CACHE_SCHEMES,
        MemcachedActivityProbe,
        MemcachedWatch,
        RedisActivityProbe,
        RedisWatch,
        cache_activity_probe,
        cache_watch,
    )
    from redline.probes._db_analysis import (
        MySqlAnalysis,
        SqliteAnalysis,
        analyze_mysql,
        analyze_sqlite,
    )
    from redline.probes._http_cache import (
        AuditTarget,
        EndpointAudit,
        HttpCacheAudit,
        ObservedResponse,
        audit_http_cache,
        targets_from_plan,
    )
    from redline.probes._memcached import MemcachedAnalysis, analyze_memcached
    from redline.probes._mysql_activity import MySqlActivityProbe, MySqlStatementWatch
    from redline.probes._pg_activity import PostgresActivityProbe, StatementWatch
    from redline.probes._pg_analysis import PostgresAnalysis, analyze_postgres
    from redline.probes._redis import RedisAnalysis, analyze_redis

#: The database probes load drivers and an SQL parser (half the CLI's start-up):
#: they are imported on first use, so commands that touch no database start faster.
_LAZY = {
    # The HTTP cache audit sends with the load engine's client, which loads the whole
    # engine (uvloop among it): too much for the in-process runners, which are in here.
    "AuditTarget": "redline.probes._http_cache",
    "EndpointAudit": "redline.probes._http_cache",
    "HttpCacheAudit": "redline.probes._http_cache",
    "ObservedResponse": "redline.probes._http_cache",
    "audit_http_cache": "redline.probes._http_cache",
    "targets_from_plan": "redline.probes._http_cache",
    # The cache's drivers load only when it connects; the module itself is small.
    "CACHE_SCHEMES": "redline.probes._cache_activity",
    "MemcachedActivityProbe": "redline.probes._cache_activity",
    "MemcachedWatch": "redline.probes._cache_activity",
    "RedisActivityProbe": "redline.probes._cache_activity",
    "RedisWatch": "redline.probes._cache_activity",
    "cache_activity_probe": "redline.probes._cache_activity",
    "cache_watch": "redline.probes._cache_activity",
    "MySqlAnalysis": "redline.probes._db_analysis",
    "SqliteAnalysis": "redline.probes._db_analysis",
    "analyze_mysql": "redline.probes._db_analysis",
    "analyze_sqlite": "redline.probes._db_analysis",
    "MySqlActivityProbe": "redline.probes._mysql_activity",
    "MySqlStatementWatch": "redline.probes._mysql_activity",
    "PostgresActivityProbe": "redline.probes._pg_activity",
    "StatementWatch": "redline.probes._pg_activity",
    "PostgresAnalysis": "redline.probes._pg_analysis",
    "analyze_postgres": "redline.probes._pg_analysis",
    "RedisAnalysis": "redline.probes._redis",
    "analyze_redis": "redline.probes._redis",
    "MemcachedAnalysis": "redline.probes._memcached",
    "analyze_memcached": "redline.probes._memcached",
}

#: The probes ``redline run --db DSN`` uses, by the DSN's scheme: the statement watch
#: (before and after the run) and the activity probe (each second), as names in ``_LAZY``.
RUN_DATABASE_PROBES = {
    "postgresql": ("StatementWatch", "PostgresActivityProbe"),
    "mysql": ("MySqlStatementWatch", "MySqlActivityProbe"),
}


def statement_watch(dsn: Dsn) -> StatementWatch | MySqlStatementWatch:
    """The statements a run causes in the database at ``dsn`` (its driver loads now).

    Raises:
        ConfigError: no watch for the DSN's scheme.
    """
    watch: StatementWatch | MySqlStatementWatch = _run_database_probe(dsn, 0)(dsn)
    return watch


def activity_probe(dsn: Dsn) -> PostgresActivityProbe | MySqlActivityProbe:
    """The database at ``dsn`` each second of a run (its driver loads now).

    Raises:
        ConfigError: no probe for the DSN's scheme.
    """
    probe: PostgresActivityProbe | MySqlActivityProbe = _run_database_probe(dsn, 1)(dsn)
    return probe


def _run_database_probe(dsn: Dsn, which: int) -> Any:
    names = RUN_DATABASE_PROBES.get(dsn.scheme)
    if names is None:
        raise ConfigError(
            f"--db: {dsn.scheme}:// cannot be watched during a run; "
            f"allowed {', '.join(s + '://' for s in RUN_DATABASE_PROBES)}"
        )
    return __getattr__(names[which])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "CACHE_SCHEMES",
    "MemcachedActivityProbe",
    "MemcachedWatch",
    "RedisActivityProbe",
    "RedisWatch",
    "cache_activity_probe",
    "cache_watch",
    "SYSCTLS",
    "FakeSystem",
    "ListenSocket",
    "LiveSystem",
    "SupportsWrite",
    "SystemFacts",
    "SystemSource",
    "read_system",
    "AuditTarget",
    "Blocker",
    "BlockingReport",
    "CpuProfile",
    "EndpointAudit",
    "Frame",
    "GilReport",
    "HostProbe",
    "HttpCacheAudit",
    "MySqlActivityProbe",
    "MySqlAnalysis",
    "MySqlStatementWatch",
    "MemcachedAnalysis",
    "MemoryProfile",
    "ObservedResponse",
    "Hotspot",
    "PostgresActivityProbe",
    "PostgresAnalysis",
    "ProcessTreeProbe",
    "ProfileSchedule",
    "ProfileWindow",
    "RUN_DATABASE_PROBES",
    "PySpyConfig",
    "QuerySample",
    "QuerySamples",
    "RedisAnalysis",
    "ShareChange",
    "SqliteAnalysis",
    "StackSamples",
    "StatementWatch",
    "ThreadGil",
    "WindowProfile",
    "activity_probe",
    "analyze_memcached",
    "analyze_mysql",
    "analyze_postgres",
    "analyze_redis",
    "analyze_sqlite",
    "audit_http_cache",
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
    "statement_watch",
    "steady_windows",
    "targets_from_plan",
]
