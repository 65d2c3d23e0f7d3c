"""The run history: every run saved in SQLite, listed, shown, named as a baseline.

Example::

    from redline.store import RunStore

    with RunStore.open(Path(".redline/redline.db")) as store:
        run_id = store.save(result, analysis)
        for run in store.list(name="shop", limit=10):
            print(run.id, run.rps, run.p95_us)
"""

from redline.store._schema import MIGRATIONS, SCHEMA_VERSION
from redline.store._store import BUSY_TIMEOUT_S, Baseline, RunStore, RunSummary, StoredRun

__all__ = [
    "BUSY_TIMEOUT_S",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Baseline",
    "RunStore",
    "RunSummary",
    "StoredRun",
]
