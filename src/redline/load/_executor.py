"""What every executor offers the worker, and the stop reasons they share."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Executor", "ExecutorCounters", "FinishLine", "StopReason"]


class StopReason(enum.Enum):
    """Why an executor stopped starting iterations."""

    #: The plan's duration or iteration count was reached.
    COMPLETED = "completed"
    #: The run was told to stop early (Ctrl-C, SIGTERM, a threshold abort).
    INTERRUPTED = "interrupted"


@dataclass
class ExecutorCounters:
    """Counts an executor keeps for the generator's self-check."""

    #: Iterations started.
    started: int = 0
    #: Open model: iterations due when no VU was free (they never ran).
    dropped: int = 0
    #: Requests cut off in flight by a stop.
    interrupted: int = 0
    #: Paced VUs: iterations that ran longer than the pacing.
    pacing_misses: int = 0
    #: Open model: delay between intended and actual start, µs, since last read.
    send_lags_us: list[int] = field(default_factory=list)


class FinishLine:
    """The ``finished`` future an executor resolves once, with its stop reason."""

    _finished: asyncio.Future[StopReason] | None = None

    @property
    def finished(self) -> asyncio.Future[StopReason]:
        """Resolves once no iteration is in flight and none will start."""
        if self._finished is None:
            self._finished = asyncio.get_running_loop().create_future()
        return self._finished

    def _resolve(self, reason: StopReason) -> None:
        """Resolve ``finished`` with ``reason``, unless it already is."""
        if not self.finished.done():
            self.finished.set_result(reason)


class Executor(Protocol):
    """Starts iterations on virtual users according to a plan."""

    counters: ExecutorCounters

    def start(self, start_ns: int) -> None:
        """Begin at ``start_ns`` (the synchronized start of every worker)."""
        ...

    def stop(self) -> None:
        """Stop starting iterations and cut off those in flight."""
        ...

    @property
    def finished(self) -> asyncio.Future[StopReason]:
        """Resolves once no iteration is in flight and none will start."""
        ...

    def active_vus(self) -> int:
        """Virtual users currently running or ready to run."""
        ...
