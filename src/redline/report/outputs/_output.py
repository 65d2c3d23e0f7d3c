"""What a streaming output is: a small Protocol, fed batches of completed seconds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from redline.report.outputs._interval import Interval

__all__ = ["Output", "RunInfo"]


@dataclass(frozen=True)
class RunInfo:
    """What an output may say about the run it streams."""

    #: The run's id (as in the results file's ``run.id``).
    run_id: str
    #: The plan's name.
    plan_name: str


class Output(Protocol):
    """A sink for completed seconds (k6 ``output.Output``).

    Called by its :class:`~redline.report.outputs.PeriodicFlusher` only, one call at a time
    and never from the load's hot path: :meth:`open` once, :meth:`write` with each batch
    (every few seconds), :meth:`close` once. Each method raises
    :class:`~redline.errors.ReportError` when the output cannot go on (a full disk, a
    collector that refuses), after releasing what it holds; the flusher then notes it
    and drops the output, which is never called again.
    """

    @property
    def label(self) -> str:
        """How the user wrote the output (``json=run.ndjson``), for notes."""
        ...

    def open(self, run: RunInfo) -> None:
        """Get ready to write (open the file, build the exporter)."""
        ...

    def write(self, intervals: Sequence[Interval]) -> None:
        """Write these seconds (in order; possibly none) and push them out."""
        ...

    def close(self) -> None:
        """The run has ended: write what is final (a summary) and release everything."""
        ...
