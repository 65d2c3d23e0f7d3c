"""Apply one database Change as ``apply_change`` does, pausing at a barrier to be killed.

Run by test_crash_db.py: ``python crash_apply.py JOURNAL POINT REACHED CHANGE_JSON``
with the DSN (password included) in ``REDLINE_TEST_DSN``. The steps mirror
:func:`redline.optimize.apply_change` (prepare, journal intent, apply, journal
result); at ``POINT`` (``intent``: after the intent, before the apply;
``apply``: after the apply, before the result) it writes the file ``REACHED``
and waits to be killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from redline.optimize import Change, JournalStatus, SqliteJournal, appliers
from redline.plan import parse_dsn


def pause(point: str, wanted: str, reached: Path) -> None:
    if point != wanted:
        return
    reached.write_text(point)
    while True:  # killed here
        time.sleep(1)


def main() -> None:
    journal_path, point, reached, change_json = sys.argv[1:]
    change = Change.from_dict(json.loads(change_json))
    applier = appliers(dsns=[parse_dsn(os.environ["REDLINE_TEST_DSN"])])[change.kind]
    journal = SqliteJournal(Path(journal_path))
    state = applier.prepare(change)
    entry = journal.intent(change, state)
    pause(point, "intent", Path(reached))
    detail = applier.apply(change, state)
    pause(point, "apply", Path(reached))
    journal.result(entry, JournalStatus.APPLIED, detail)


if __name__ == "__main__":
    main()
