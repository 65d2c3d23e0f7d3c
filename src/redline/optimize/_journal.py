"""The journal: every Change written down before it runs, and its result after.

:class:`Journal` is the interface the appliers use (``redline system tune``
today). :class:`JsonLinesJournal` is a small file-backed one: one JSON object
per line, each an event (``intent``, ``applied``, ``failed``, ``undone``,
``undo_failed``) of an entry; the intent is flushed to disk (``fsync``)
before the change runs, so a crash between the two leaves an entry that
:meth:`Journal.to_undo` still returns. Issue 10's SQLite journal is meant to
take this interface over (see docs/decisions.md); the appliers will not change.

An entry's ``state`` holds what its undo needs (for a kernel parameter: the
file and the value before), so the undo never depends on the command text.
"""

from __future__ import annotations

import enum
import json
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from redline.errors import ConfigError
from redline.optimize._change import Change

__all__ = ["Journal", "JournalEntry", "JournalStatus", "JsonLinesJournal"]


class JournalStatus(enum.Enum):
    """Where an entry stands: its last event."""

    #: Written before the change ran; no result yet (a crash, or running now).
    INTENT = "intent"
    #: The change ran and was verified.
    APPLIED = "applied"
    #: The change failed; the system may still hold part of it, so it is undone too.
    FAILED = "failed"
    #: The undo ran and was verified.
    UNDONE = "undone"
    #: The undo failed; it is tried again next time.
    UNDO_FAILED = "undo_failed"


#: Statuses whose entries an undo must still visit.
TO_UNDO = (
    JournalStatus.INTENT,
    JournalStatus.APPLIED,
    JournalStatus.FAILED,
    JournalStatus.UNDO_FAILED,
)


@dataclass(frozen=True)
class JournalEntry:
    """One Change in the journal, with what its undo needs and its latest status."""

    id: str
    change: Change
    #: What the undo needs, e.g. ``{"path": ..., "before": "128", "after": "4096"}``.
    state: Mapping[str, str]
    status: JournalStatus
    #: The last event's detail: an error, or what was verified.
    detail: str
    #: UTC time of the intent, ISO 8601.
    at: str
    #: The run that made the change ("" when it was made outside a run).
    run_id: str = ""


class Journal(Protocol):
    """Where Changes are recorded: the intent before each runs, the result after."""

    def intent(self, change: Change, state: Mapping[str, str]) -> str:
        """Record (durably) that ``change`` is about to run; return the entry's id."""
        ...

    def result(self, entry_id: str, status: JournalStatus, detail: str = "") -> None:
        """Record how the apply or the undo of an entry ended."""
        ...

    def to_undo(self) -> list[JournalEntry]:
        """Entries not yet undone (applied, failed or interrupted), newest first."""
        ...


class JsonLinesJournal:
    """A journal in a JSON-lines file (created with its folder on the first intent).

    Example::

        journal = JsonLinesJournal(Path(".redline/kernel-changes.jsonl"))
        entry = journal.intent(change, {"path": path, "before": "128", "after": "4096"})
        ...  # make the change
        journal.result(entry, JournalStatus.APPLIED, "reads back 4096")
    """

    def __init__(
        self, path: Path, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.path = path
        self._now = now

    def intent(self, change: Change, state: Mapping[str, str]) -> str:
        entry_id = uuid.uuid4().hex[:12]
        self._append(
            {
                "event": JournalStatus.INTENT.value,
                "id": entry_id,
                "change": change.to_dict(),
                "state": dict(state),
            }  # fmt: skip
        )
        return entry_id

    def result(self, entry_id: str, status: JournalStatus, detail: str = "") -> None:
        self._append({"event": status.value, "id": entry_id, "detail": detail})

    def entries(self) -> list[JournalEntry]:
        """Every entry, oldest first, each with its latest status.

        Raises:
            ConfigError: a line is not an event this journal wrote.
        """
        intents: dict[str, dict[str, Any]] = {}
        latest: dict[str, tuple[JournalStatus, str]] = {}
        for number, event in enumerate(self._events(), 1):
            try:
                status = JournalStatus(event["event"])
                if status is JournalStatus.INTENT:
                    intents[event["id"]] = event
                latest[event["id"]] = (status, str(event.get("detail", "")))
            except (KeyError, ValueError, TypeError):
                raise ConfigError(f"{self.path}:{number}: not a journal event: {event!r}") from None
        return [
            JournalEntry(
                id=entry_id,
                change=Change.from_dict(event["change"]),
                state={str(k): str(v) for k, v in event["state"].items()},
                status=latest[entry_id][0],
                detail=latest[entry_id][1],
                at=str(event.get("at", "")),
            )
            for entry_id, event in intents.items()
        ]

    def to_undo(self) -> list[JournalEntry]:
        return [e for e in reversed(self.entries()) if e.status in TO_UNDO]

    def _append(self, event: dict[str, Any]) -> None:
        event = {"at": self._now().isoformat(timespec="seconds"), **event}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(event, ensure_ascii=False) + "\n")
            file.flush()
            os.fsync(file.fileno())  # the intent is on disk before the change runs

    def _events(self) -> list[Any]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        events = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except ValueError:
                # A crash mid-write leaves at most a torn last line: that event never happened.
                if number == len(lines):
                    break
                raise ConfigError(f"{self.path}:{number}: not JSON: {line[:80]!r}") from None
        return events
