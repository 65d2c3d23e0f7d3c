"""The system under study, as ``redline.toml`` describes it: what ``redline investigate``,
``redline context`` and ``redline demo`` start from.

:class:`Context` is the validated description: the load (a :class:`Plan` built
from the file's target URLs and scenario, or from a plan file it names), the
SLAs, the server (a PID, or a command redline starts and stops), the
databases and caches, the environment, and the load the system must carry.
Reading and checking the file is :func:`load_context`'s job (one validation
at the edge, as for plans); the type is here so the parts that consume it
agree on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from redline.plan._dsn import Dsn, redact_passwords
from redline.plan._plan import Plan
from redline.plan._threshold import Threshold

__all__ = ["Context", "ServerSpec"]


@dataclass(frozen=True)
class ServerSpec:
    """The server under test: a running process, or a command redline starts and stops."""

    pid: int | None = None
    #: A shell-style command line, started by redline and stopped by its PID at the end.
    command: str | None = None

    def __repr__(self) -> str:
        # The command may hold a DSN with its password (--dsn postgresql://u:pw@...).
        command = None if self.command is None else redact_passwords(self.command)
        return f"ServerSpec(pid={self.pid!r}, command={command!r})"


@dataclass(frozen=True)
class Context:
    """What ``redline.toml`` says about the system under study."""

    #: The load to apply: targets, scenario, and the plan's own thresholds.
    plan: Plan
    #: The SLAs the system must meet (p95/p99 latency, error rate, minimum throughput).
    slas: tuple[Threshold, ...] = ()
    server: ServerSpec | None = None
    #: The databases the service uses (passwords kept in memory only, never printed).
    databases: tuple[Dsn, ...] = ()
    caches: tuple[Dsn, ...] = ()
    #: local, dev or staging (production is refused when the file is read).
    environment: str = "local"
    #: The peak load the system must carry, in requests per second, if known.
    expected_peak_rps: float | None = None
    #: Expected growth of that peak per month, as a fraction (0.1 = 10 %), if known.
    growth_per_month: float | None = None
    #: The file it was read from (None when built in code).
    source: Path | None = None
    #: Anything the reader wants the user to know (a default it assumed, a key it ignored).
    notes: tuple[str, ...] = field(default=())
