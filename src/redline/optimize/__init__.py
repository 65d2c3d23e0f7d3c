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
- :class:`SqliteJournal`: the journal ``redline changes`` and ``redline rollback``
  read, beside the run history (:func:`default_journal_path`).
- Appliers: :class:`DatabaseApplier` (indexes and settings; :func:`drop_index_change`,
  :func:`setting_change`), :class:`FileEditApplier` (:func:`file_edit_change`),
  :class:`TestDataApplier` (:func:`tagged_rows_change`), :class:`KernelApplier`;
  :func:`appliers` gives one per kind.
- :func:`rollback`: undo journaled changes newest first, idempotently, past failures.
- ``redline optimize db``: :func:`try_change` applies an advised index
  (:func:`index_candidates`), times its statements before and after, and keeps
  or undoes it by :func:`judge`'s rule (:class:`ChangeTrial`, :class:`Decision`).
- ``redline verify``: the checks (:class:`Check`), and the :class:`PidRegistry`
  of processes redline started.
"""

from redline.optimize._applier import (
    Applier,
    ChangeError,
    ChangeOutcome,
    apply_change,
    undo_entry,
)
from redline.optimize._change import Change, ChangeKind
from redline.optimize._db_changes import DatabaseApplier, drop_index_change, setting_change
from redline.optimize._file_edit import FileEditApplier, file_edit_change
from redline.optimize._journal import Journal, JournalEntry, JournalStatus, JsonLinesJournal
from redline.optimize._kernel import (
    KernelApplier,
    KernelOutcome,
    apply_kernel,
    check_permitted,
    kernel_change,
    kernel_changes,
    undo_kernel,
)
from redline.optimize._optimize_db import (
    ChangeTrial,
    Decision,
    IndexCandidate,
    index_candidates,
    judge,
    try_change,
)
from redline.optimize._pids import PidRegistry, pid_registry_path
from redline.optimize._registry import appliers
from redline.optimize._rollback import SupportsEntries, pending, rollback
from redline.optimize._sqlite_journal import SqliteJournal, default_journal_path, import_jsonl
from redline.optimize._test_data import TestDataApplier, tagged_rows_change
from redline.optimize._verify import Check, CheckStatus

__all__ = [
    "Applier",
    "Change",
    "ChangeError",
    "ChangeKind",
    "ChangeOutcome",
    "ChangeTrial",
    "Check",
    "CheckStatus",
    "DatabaseApplier",
    "Decision",
    "FileEditApplier",
    "IndexCandidate",
    "Journal",
    "JournalEntry",
    "JournalStatus",
    "JsonLinesJournal",
    "KernelApplier",
    "KernelOutcome",
    "PidRegistry",
    "SqliteJournal",
    "SupportsEntries",
    "TestDataApplier",
    "appliers",
    "apply_change",
    "apply_kernel",
    "check_permitted",
    "default_journal_path",
    "drop_index_change",
    "file_edit_change",
    "import_jsonl",
    "index_candidates",
    "judge",
    "kernel_change",
    "kernel_changes",
    "pending",
    "pid_registry_path",
    "rollback",
    "setting_change",
    "tagged_rows_change",
    "try_change",
    "undo_entry",
    "undo_kernel",
]
