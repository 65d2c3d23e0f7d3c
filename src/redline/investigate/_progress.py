"""What ``redline investigate`` tells a watcher while it works: one event per phase.

An event is ``{"agent": "redline", "status": ..., "progress": {...}}``: the
status is one of :class:`Status`, and ``progress`` carries the phase's name,
its time budget and every figure measured so far (``baseline_p95_ms``,
``max_rps``, ``response_time_improvement``...). :class:`JsonLinesProgress`
writes them one per line (``--progress-json FILE``).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from redline.errors import ConfigError

__all__ = ["AGENT", "FanOut", "JsonLinesProgress", "ProgressEvent", "ProgressSink", "Status"]

#: Who the events say they come from.
AGENT: Final = "redline"


class Status(enum.StrEnum):
    """What the investigation is doing, as a watcher reads it."""

    #: Measuring the baseline (short, repeated).
    BASELINING = "baselining"
    #: Stepping the load up to the knee or the SLA breach.
    LOAD_TESTING = "load-testing"
    #: Reading the server's profiles, one per step.
    PROFILING = "profiling"
    #: Database and cache analysis, diagnosis and capacity.
    ANALYZING = "analyzing"
    #: Applying safe changes through the journal.
    OPTIMIZING = "optimizing"
    #: Re-measuring, comparing, reporting, rolling back.
    VALIDATING = "validating"
    #: Finished; the last event carries every figure.
    DONE = "done"


@dataclass(frozen=True)
class ProgressEvent:
    """One step of the investigation and the figures measured so far."""

    status: Status
    #: The phase's name (``baseline``, ``scalability``...), or ``done``.
    phase: str
    progress: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The event as one JSON object."""
        return {
            "agent": AGENT,
            "status": self.status.value,
            "progress": {"phase": self.phase, **self.progress},
        }


class ProgressSink(Protocol):
    """Told of each event as it happens (a live view, a JSON-lines file)."""

    def emit(self, event: ProgressEvent) -> None: ...


class JsonLinesProgress:
    """Writes each event as one line of JSON to ``path``, flushed at once.

    :meth:`start` empties the file (and fails before any load when it cannot be written).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def start(self) -> None:
        """Create or empty the file.

        Raises:
            ConfigError: the file cannot be written.
        """
        try:
            self.path.write_text("")
        except OSError as exc:
            raise ConfigError(
                f"--progress-json: cannot write {str(self.path)!r}: {exc.strerror}"
            ) from None

    def emit(self, event: ProgressEvent) -> None:
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(event.to_dict(), sort_keys=True) + "\n")


class FanOut:
    """Tells every sink in turn."""

    def __init__(self, *sinks: ProgressSink | None) -> None:
        self._sinks = [s for s in sinks if s is not None]

    def emit(self, event: ProgressEvent) -> None:
        for sink in self._sinks:
            sink.emit(event)
