"""Changes redline can make to the system under test, each with its undo and check.

- :class:`Change` and :class:`ChangeKind`: one change (an index, a setting, a
  file edit, a kernel parameter, test data) with the SQL or command that
  applies it, undoes it and verifies it.
- :class:`Applier` (one per kind), :func:`apply_change` and :func:`undo_entry`:
  a Change made and unmade through the journal, intent first.
- :class:`Journal`: where a Change is recorded before it runs and its result
  after; :class:`JsonLinesJournal` keeps it in a JSON-lines file.
- Kernel parameters (``redline system tune``): :func:`kernel_changes` from the
  audit's advice, :func:`apply_kernel` and :func:`undo_kernel` through a
  journal, refused where not permitted (:func:`check_permitted`).
"""

from redline.optimize._applier import (
    Applier,
    ChangeError,
    ChangeOutcome,
    apply_change,
    undo_entry,
)
from redline.optimize._change import Change, ChangeKind
from redline.optimize._journal import Journal, JournalEntry, JournalStatus, JsonLinesJournal
from redline.optimize._kernel import (
    KernelOutcome,
    apply_kernel,
    check_permitted,
    kernel_change,
    kernel_changes,
    undo_kernel,
)

__all__ = [
    "Applier",
    "Change",
    "ChangeError",
    "ChangeOutcome",
    "ChangeKind",
    "Journal",
    "JournalEntry",
    "JournalStatus",
    "JsonLinesJournal",
    "KernelOutcome",
    "apply_change",
    "apply_kernel",
    "check_permitted",
    "kernel_change",
    "kernel_changes",
    "undo_entry",
    "undo_kernel",
]
