"""The applier of each kind of Change, in one table (:func:`appliers`)."""

from __future__ import annotations

from collections.abc import Sequence

from redline.optimize._applier import Applier
from redline.optimize._change import ChangeKind
from redline.optimize._db_changes import DatabaseApplier
from redline.optimize._file_edit import FileEditApplier
from redline.optimize._kernel import KernelApplier
from redline.optimize._test_data import TestDataApplier
from redline.plan._dsn import Dsn
from redline.probes._system import SupportsWrite

__all__ = ["appliers"]


def appliers(
    *, dsns: Sequence[Dsn] = (), system: SupportsWrite | None = None
) -> dict[ChangeKind, Applier]:
    """An applier for each kind of Change redline can make and undo.

    Args:
        dsns: connection strings with their passwords, for the database changes and test
            data (the journal keeps only redacted targets).
        system: where kernel parameters are written; without it, kernel parameters have
            no applier (``redline`` passes this machine; tests a FakeSystem).
    """
    database = DatabaseApplier(dsns)
    table: dict[ChangeKind, Applier] = {
        ChangeKind.INDEX: database,
        ChangeKind.SETTING: database,
        ChangeKind.FILE_EDIT: FileEditApplier(),
        ChangeKind.TEST_DATA: TestDataApplier(dsns),
    }
    if system is not None:
        table[ChangeKind.KERNEL_PARAMETER] = KernelApplier(system)
    return table
