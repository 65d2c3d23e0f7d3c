"""How a Change is made and unmade, whatever its kind: the contract between the appliers
and the journal.

Every kind of change (an index, a database setting, a file edit, a kernel
parameter, test data) has an :class:`Applier` registered for its
:class:`~redline.optimize.ChangeKind`. :func:`apply_change` runs one through a
:class:`~redline.optimize.Journal` in the only safe order:

1. ``prepare``: read what the undo will need (the value before, a backup's
   path, a checksum) without changing anything;
2. ``journal.intent(change, state)``: durable before anything changes;
3. ``apply``: make the change and verify it;
4. ``journal.result(...)``: applied, or failed (a failed change may have
   half-happened, so it stays in the journal to be undone).

:func:`undo_entry` undoes one journal entry with the applier of its kind.
An undo must be idempotent: it checks the system's state first and does
nothing when the change is not (or no longer) there, so a rollback that is
interrupted and run again, or run twice, is safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from redline.errors import RedlineError
from redline.optimize._change import Change, ChangeKind
from redline.optimize._journal import Journal, JournalEntry, JournalStatus

__all__ = ["Applier", "ChangeError", "ChangeOutcome", "apply_change", "undo_entry"]


class ChangeError(RedlineError):
    """A change or its undo did not happen, or did not verify; the message says why."""


class Applier(Protocol):
    """Makes and unmakes the changes of one kind."""

    def prepare(self, change: Change) -> dict[str, str]:
        """What the undo will need, read now, before the change (changes nothing).

        Raises:
            ChangeError: the change cannot be made (its target missing, no permission).
        """
        ...

    def apply(self, change: Change, state: Mapping[str, str]) -> str:
        """Make the change and verify it; return what was verified.

        Raises:
            ChangeError: it failed or did not verify (it may have half-happened).
        """
        ...

    def undo(self, change: Change, state: Mapping[str, str]) -> str:
        """Put back what ``state`` recorded, if the change is there; idempotent.

        Raises:
            ChangeError: the undo failed or did not verify.
        """
        ...


@dataclass(frozen=True)
class ChangeOutcome:
    """How one apply or undo ended."""

    change: Change
    ok: bool
    detail: str
    #: The journal entry's id (None when nothing was journaled: refused in prepare).
    entry_id: str | None = None


def apply_change(
    change: Change, journal: Journal, appliers: Mapping[ChangeKind, Applier]
) -> ChangeOutcome:
    """Make ``change`` through the journal (module docstring); never raises for the change
    itself failing: the outcome says so."""
    applier = appliers[change.kind]
    try:
        state = applier.prepare(change)
    except ChangeError as exc:
        return ChangeOutcome(change, False, str(exc))
    entry_id = journal.intent(change, state)
    try:
        detail = applier.apply(change, state)
    except ChangeError as exc:
        journal.result(entry_id, JournalStatus.FAILED, str(exc))
        return ChangeOutcome(change, False, str(exc), entry_id)
    journal.result(entry_id, JournalStatus.APPLIED, detail)
    return ChangeOutcome(change, True, detail, entry_id)


def undo_entry(
    entry: JournalEntry, journal: Journal, appliers: Mapping[ChangeKind, Applier]
) -> ChangeOutcome:
    """Undo one journal entry with its kind's applier; the result goes to the journal."""
    applier = appliers[entry.change.kind]
    try:
        detail = applier.undo(entry.change, entry.state)
    except ChangeError as exc:
        journal.result(entry.id, JournalStatus.UNDO_FAILED, str(exc))
        return ChangeOutcome(entry.change, False, str(exc), entry.id)
    journal.result(entry.id, JournalStatus.UNDONE, detail)
    return ChangeOutcome(entry.change, True, detail, entry.id)
