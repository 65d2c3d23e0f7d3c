"""Rollback: undo journaled Changes, newest first, idempotent, past failures.

:func:`rollback` visits every entry not yet undone (applied, failed,
interrupted before its result, or whose undo failed before), newest first, and
undoes each with its kind's :class:`~redline.optimize.Applier` through
:func:`~redline.optimize.undo_entry`, which journals the result. Because each
undo first checks the system's state and does nothing when the change is not
there, a rollback can be run twice, or again after a crash in the middle of
one (the entries already undone are skipped; the one cut short is undone
again, harmlessly), and an entry whose intent was journaled but whose change
never ran (a crash between the two) is undone as a no-op.

A failing undo is reported in its outcome, journaled ``undo_failed`` (so the
next rollback tries it again), and the rest are still undone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from redline.errors import ConfigError
from redline.optimize._applier import Applier, ChangeOutcome, undo_entry
from redline.optimize._change import ChangeKind
from redline.optimize._journal import TO_UNDO, Journal, JournalEntry

__all__ = ["SupportsEntries", "pending", "rollback"]

#: A reason to leave an entry as it is this time (e.g. "needs --db ..."), or None.
SkipReason = Callable[[JournalEntry], str | None]


class SupportsEntries(Journal, Protocol):
    """A journal that can list its entries, all or one run's."""

    def entries(self, *, run_id: str | None = None) -> list[JournalEntry]:
        """Every entry (of run ``run_id`` when given), oldest first."""
        ...


def pending(
    journal: SupportsEntries, *, entry_id: str | None = None, run_id: str | None = None
) -> list[JournalEntry]:
    """The entries a rollback would undo, newest first: all, one run's, or one entry.

    ``entry_id`` may be a unique prefix of an id.

    Raises:
        ConfigError: no entry (or more than one) has that id or prefix.
    """
    entries = journal.entries(run_id=run_id)
    if entry_id is not None:
        entries = [e for e in entries if e.id.startswith(entry_id)]
        if len(entries) != 1:
            found = "no journal entry" if not entries else f"{len(entries)} journal entries"
            raise ConfigError(
                f"ID: {found} with id {entry_id!r}",
                hint="`redline changes` lists the entries and their ids",
            )
    return [e for e in reversed(entries) if e.status in TO_UNDO]


def rollback(
    journal: SupportsEntries,
    appliers: Mapping[ChangeKind, Applier],
    *,
    entry_id: str | None = None,
    run_id: str | None = None,
    skip: SkipReason | None = None,
) -> list[ChangeOutcome]:
    """Undo the entries :func:`pending` selects, newest first; one outcome each.

    An entry whose kind has no applier here, or for which ``skip`` gives a
    reason, is left as it is (not journaled) and reported as not ok with that
    reason. Never raises for an undo failing: the outcome says so.

    Raises:
        ConfigError: ``entry_id`` matches no entry, or several.
    """
    outcomes = []
    for entry in pending(journal, entry_id=entry_id, run_id=run_id):
        reason = skip(entry) if skip is not None else None
        if reason is None and entry.change.kind not in appliers:
            reason = f"skipped: no applier for {entry.change.kind.value} changes here"
        if reason is not None:
            outcomes.append(ChangeOutcome(entry.change, False, reason, entry.id))
            continue
        outcomes.append(undo_entry(entry, journal, appliers))
    return outcomes
