"""Checks made before any load: the targets answer, the databases and caches connect.

A Context that cannot work stops here with one error (:class:`~redline.errors.TargetError`
or :class:`~redline.errors.ConfigError`) and nothing has been sent.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from redline.errors import ConfigError, TargetError
from redline.plan import Dsn, Plan
from redline.plan._context import Context

__all__ = ["check_context", "check_targets"]

#: How long a target has to accept a connection.
CONNECT_TIMEOUT_S: Final = 2.0


def check_context(context: Context) -> None:
    """Every target accepts connections and every database and cache connects.

    Raises:
        TargetError: a target that does not accept connections, a database or
            cache that refuses.
        ConfigError: a SQLite database file that does not exist.
    """
    check_targets(context.plan)
    for dsn in context.databases:
        _check_database(dsn)
    for dsn in context.caches:
        _check_cache(dsn)


def check_targets(plan: Plan) -> None:
    """Each distinct target origin of ``plan`` accepts a TCP connection.

    Raises:
        TargetError: one does not, with the reason.
    """
    seen: set[tuple[str, int]] = set()
    for spec in plan.requests:
        url = urlsplit(spec.url)
        host, port = url.hostname or "", url.port or (443 if url.scheme == "https" else 80)
        if (host, port) in seen or "${" in spec.url:
            continue
        seen.add((host, port))
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise TargetError(
                f"target {spec.url!r} is unreachable: {exc.strerror or exc}",
                hint="start the service, or give its command as [server] command",
            ) from None


def _check_database(dsn: Dsn) -> None:
    from redline.probes import RUN_DATABASE_PROBES, statement_watch

    if dsn.scheme == "sqlite":
        if dsn.path and dsn.path != ":memory:" and not Path(dsn.path).exists():
            raise ConfigError(f"database {str(dsn)!r}: no such SQLite file")
        return
    if dsn.scheme in RUN_DATABASE_PROBES:
        try:
            statement_watch(dsn).check()
        except TargetError as exc:
            raise TargetError(f"database: {exc.message}", hint=exc.hint) from None


def _check_cache(dsn: Dsn) -> None:
    from redline.probes import cache_watch

    try:
        cache_watch(dsn).check()
    except TargetError as exc:
        raise TargetError(f"cache: {exc.message}", hint=exc.hint) from None
