"""Changes redline can make to the system under test, each with its undo and check.

- :class:`Change` and :class:`ChangeKind`: one change (an index, a setting, a
  file edit, a kernel parameter, test data) with the SQL or command that
  applies it, undoes it and verifies it.
"""

from redline.optimize._change import Change, ChangeKind

__all__ = ["Change", "ChangeKind"]
