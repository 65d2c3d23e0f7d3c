"""The shop's load plan and ``redline.toml``, with the shop's real port and database filled in.

``plan.toml`` (beside this module) names ``base_url = "http://127.0.0.1:8000"``;
a run against a shop on another port uses :func:`shop_plan` (a :class:`Plan`)
or :func:`write_files` (a plan file and a ``redline.toml`` for that port).
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import tomllib
from pathlib import Path

from redline.plan import Plan
from redline.plan._toml import plan_from_file_data

__all__ = [
    "CONTEXT_TEMPLATE",
    "DEFAULT_DB",
    "PLAN_FILE",
    "QUERIES_FILE",
    "shop_plan",
    "write_files",
]

_HERE = Path(__file__).parent
#: The shop's load plan (every endpoint, by weight), for a shop on port 8000.
PLAN_FILE = _HERE / "plan.toml"
#: The statements the shop runs, for ``redline db analyze sqlite:///... --queries``.
QUERIES_FILE = _HERE / "queries.sql"
#: ``redline.toml`` for the shop, with ``{port}``, ``{db}``, ``{dsn}``, ``{python}``, ``{queries}``.
CONTEXT_TEMPLATE = _HERE / "redline.toml"
#: The database file when ``--db`` is not given (seeded on first start, kept after).
DEFAULT_DB = Path(tempfile.gettempdir()) / "redline-shop" / "shop.db"
#: The port plan.toml names.
PLAN_PORT = 8000


def _base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def shop_plan(port: int) -> Plan:
    """The shop's plan (``plan.toml``) aimed at a shop on ``127.0.0.1:port``.

    Example::

        plan = shop_plan(8123)
        plan.requests[0].url  # "http://127.0.0.1:8123/health"
    """
    data = tomllib.loads(PLAN_FILE.read_text(encoding="utf-8"))
    data["base_url"] = _base_url(port)
    return plan_from_file_data(data, PLAN_FILE)


def write_files(directory: Path, *, port: int, db: Path) -> tuple[Path, Path]:
    """Write ``plan.toml`` and ``redline.toml`` for a shop on ``port`` over ``db``.

    Returns:
        The plan file and the context file, both in ``directory``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    plan_text = PLAN_FILE.read_text(encoding="utf-8")
    plan = directory / "plan.toml"
    plan.write_text(
        plan_text.replace(f'"{_base_url(PLAN_PORT)}"', f'"{_base_url(port)}"'), encoding="utf-8"
    )
    db = db.resolve()
    values = {
        "port": str(port),
        "db": shlex.quote(str(db)),
        "dsn": "sqlite:///" + str(db).lstrip("/"),
        "python": shlex.quote(sys.executable),
        "queries": str(QUERIES_FILE),
    }
    context = directory / "redline.toml"
    template = CONTEXT_TEMPLATE.read_text(encoding="utf-8")
    filled = template.format(**{k: _toml_text(v) for k, v in values.items()})
    context.write_text(filled, encoding="utf-8")
    return plan, context


def _toml_text(text: str) -> str:
    """``text`` escaped for the inside of a TOML basic string ("...")."""
    return text.replace("\\", "\\\\").replace('"', '\\"')
