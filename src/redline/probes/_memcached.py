"""Everything ``redline cache analyze memcached://...`` reads from a memcached server.

``stats`` (hits, misses, evictions, connections, memory), ``stats settings``
(the flags it was started with: ``-m``, ``-c``, ``-R``), and per slab class
``stats slabs`` with ``stats items`` (chunk size, pages, free chunks, evictions).
Each is read on its own; one that cannot be read leaves a note. Turning them
into findings is :func:`redline.diagnose.cache_findings`'s job.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from pymemcache.client.base import Client  # type: ignore[import-untyped]
from pymemcache.exceptions import MemcacheError  # type: ignore[import-untyped]

from redline.errors import TargetError
from redline.plan import Dsn
from redline.probes._db_analysis import read_part
from redline.units import format_bytes

__all__ = [
    "MemcachedAnalysis",
    "MemcachedFigures",
    "SlabClass",
    "analyze_memcached",
    "connect_memcached",
    "memcached_figures",
    "memcached_stats",
    "slab_classes",
]

CONNECT_TIMEOUT_S = 3.0
COMMAND_TIMEOUT_S = 5.0
#: The ``what`` of connecting, in the error messages.
CONNECT = "connect"


@dataclass(frozen=True, kw_only=True)
class MemcachedFigures:
    """What ``stats`` and ``stats settings`` say (counters since the start)."""

    version: str
    uptime_s: int
    cmd_get: int
    get_hits: int
    get_misses: int
    cmd_set: int
    evictions: int
    #: Items evicted that were never read after they were stored.
    evicted_unfetched: int
    #: Items that expired without being read.
    expired_unfetched: int
    #: Times memcached stopped accepting connections at its limit (``-c``).
    listen_disabled_num: int
    #: Times a connection yielded after ``-R`` requests in one event.
    conn_yields: int
    curr_connections: int
    #: The ``-c`` limit.
    max_connections: int
    rejected_connections: int
    bytes: int
    #: The ``-m`` limit, in bytes.
    limit_maxbytes: int
    curr_items: int
    threads: int
    #: ``-R``; None when ``stats settings`` was not read.
    reqs_per_event: int | None
    #: ``slab_automove`` (0 off, 1 on, 2 aggressive); None when not read.
    slab_automove: int | None

    @property
    def hit_ratio(self) -> float | None:
        """get_hits / cmd_get; None before the first get."""
        return self.get_hits / self.cmd_get if self.cmd_get else None

    @property
    def memory_share(self) -> float | None:
        return self.bytes / self.limit_maxbytes if self.limit_maxbytes else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "hit_ratio": self.hit_ratio, "memory_share": self.memory_share}


def memcached_figures(
    stats: Mapping[str, Any], settings: Mapping[str, Any] | None = None
) -> MemcachedFigures:
    """The figures of ``stats`` (and ``stats settings``), with str keys; pure."""
    settings = settings or {}

    def num(name: str, source: Mapping[str, Any] = stats) -> int:
        value = source.get(name, 0)
        try:
            return int(value)
        except (TypeError, ValueError):
            return 0

    automove = settings.get("slab_automove")
    return MemcachedFigures(
        version=str(stats.get("version", "?")),
        uptime_s=num("uptime"),
        cmd_get=num("cmd_get"),
        get_hits=num("get_hits"),
        get_misses=num("get_misses"),
        cmd_set=num("cmd_set"),
        evictions=num("evictions"),
        evicted_unfetched=num("evicted_unfetched"),
        expired_unfetched=num("expired_unfetched"),
        listen_disabled_num=num("listen_disabled_num"),
        conn_yields=num("conn_yields"),
        curr_connections=num("curr_connections"),
        max_connections=num("max_connections") or num("maxconns", settings),
        rejected_connections=num("rejected_connections"),
        bytes=num("bytes"),
        limit_maxbytes=num("limit_maxbytes"),
        curr_items=num("curr_items"),
        threads=num("threads"),
        reqs_per_event=num("reqs_per_event", settings) if "reqs_per_event" in settings else None,
        slab_automove=int(automove) if isinstance(automove, bool | int) else None,
    )


@dataclass(frozen=True, kw_only=True)
class SlabClass:
    """One slab class: items of one size range, in pages of its own."""

    id: int
    chunk_size: int
    pages: int
    total_chunks: int
    used_chunks: int
    free_chunks: int
    items: int
    evicted: int
    evicted_unfetched: int
    #: Stores refused for want of memory in this class.
    outofmemory: int

    @property
    def free_bytes(self) -> int:
        return self.free_chunks * self.chunk_size


def slab_classes(slabs: Mapping[str, Any], items: Mapping[str, Any]) -> list[SlabClass]:
    """The classes of ``stats slabs`` (``ID:field``) with ``stats items`` (``items:ID:field``)."""
    per_class: dict[int, dict[str, int]] = {}
    for source, skip in ((slabs, 0), (items, 1)):
        for name, value in source.items():
            parts = name.split(":")
            if len(parts) != 2 + skip or not parts[skip].isdigit():
                continue  # totals such as active_slabs
            try:
                per_class.setdefault(int(parts[skip]), {})[parts[-1]] = int(value)
            except (TypeError, ValueError):
                continue
    return [
        SlabClass(
            id=class_id,
            chunk_size=f.get("chunk_size", 0),
            pages=f.get("total_pages", 0),
            total_chunks=f.get("total_chunks", 0),
            used_chunks=f.get("used_chunks", 0),
            free_chunks=f.get("free_chunks", 0),
            items=f.get("number", 0),
            evicted=f.get("evicted", 0),
            evicted_unfetched=f.get("evicted_unfetched", 0),
            outofmemory=f.get("outofmemory", 0),
        )
        for class_id, f in sorted(per_class.items())
    ]


@dataclass
class MemcachedAnalysis:
    """What was read from one memcached server, and notes on what could not be."""

    dsn: str
    figures: MemcachedFigures | None = None
    slabs: list[SlabClass] | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> list[tuple[str, str, str]]:
        """The figures a person reads first: (label, value, source) rows for a table."""
        f = self.figures
        if f is None:
            return []
        ratio = "no gets yet" if f.hit_ratio is None else f"{f.hit_ratio:.1%}"
        rows = [
            ("server", f"memcached {f.version}, up {f.uptime_s:,} s, {f.threads} threads",
             "stats"),
            ("hit ratio", f"{ratio} ({f.get_hits:,} hits of {f.cmd_get:,} gets)",
             "stats get_hits / cmd_get"),
            ("evictions (never read)", f"{f.evictions:,} ({f.evicted_unfetched:,})",
             "stats evictions, evicted_unfetched"),
            ("memory used / limit (-m)", f"{format_bytes(f.bytes)} / "
             f"{format_bytes(f.limit_maxbytes)}", "stats bytes, limit_maxbytes"),
            ("items", f"{f.curr_items:,}", "stats curr_items"),
            ("connections / limit (-c)", f"{f.curr_connections:,} / {f.max_connections:,} "
             f"(refused {f.rejected_connections:,}, listening stopped {f.listen_disabled_num:,} "
             "times)", "stats"),
            ("connection yields (-R)", f"{f.conn_yields:,} (-R {f.reqs_per_event or '?'})",
             "stats conn_yields"),
        ]  # fmt: skip
        if self.slabs:
            evicting = sum(1 for s in self.slabs if s.evicted)
            rows.append(("slab classes (evicting)", f"{len(self.slabs)} ({evicting})",
                         "stats slabs, stats items"))  # fmt: skip
        return rows

    def to_dict(self) -> dict[str, Any]:
        """For ``--json``."""
        return {
            "dsn": self.dsn,
            "figures": self.figures.to_dict() if self.figures else None,
            "slabs": [asdict(s) for s in self.slabs] if self.slabs is not None else None,
        }


def analyze_memcached(dsn: Dsn) -> MemcachedAnalysis:
    """Read the memcached server behind ``dsn``.

    Raises:
        TargetError: the server cannot be reached (nothing to show).
    """
    result = MemcachedAnalysis(str(dsn))
    client = connect_memcached(dsn)
    try:
        stats = memcached_stats(client, dsn)  # nothing to show without it
        part = partial(read_part, result.notes)
        settings = part("stats settings", lambda: memcached_stats(client, dsn, "settings"))
        result.figures = memcached_figures(stats, settings)
        slabs = part("stats slabs", lambda: memcached_stats(client, dsn, "slabs"))
        items = part("stats items", lambda: memcached_stats(client, dsn, "items"))
        if slabs is not None and items is not None:
            result.slabs = slab_classes(slabs, items)
    finally:
        client.close()
    return result


def connect_memcached(dsn: Dsn, *, timeout_s: float = COMMAND_TIMEOUT_S) -> Client:
    """A client of the memcached at ``dsn``, checked with ``version``.

    Args:
        dsn: the server.
        timeout_s: how long one command may take.

    Raises:
        TargetError: refused, unreachable or timed out.
    """
    client = Client((dsn.host, dsn.port), connect_timeout=CONNECT_TIMEOUT_S, timeout=timeout_s)
    try:
        with _translated(dsn, CONNECT, timeout_s):
            client.version()
    except TargetError:
        client.close()
        raise
    return client


def memcached_stats(client: Client, dsn: Dsn, *args: str) -> dict[str, Any]:
    """``stats [args]`` of the client's server, with str keys (and str for bytes values).

    Raises:
        TargetError: the server refused, closed the connection or did not answer.
    """
    with _translated(dsn, " ".join(("stats", *args)), client.timeout):
        raw = client.stats(*args)
    return {_text(k): _text(v) if isinstance(v, bytes) else v for k, v in raw.items()}


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


@contextmanager
def _translated(dsn: Dsn, what: str, timeout_s: float) -> Iterator[None]:
    """pymemcache's and the socket's errors as one-line :class:`TargetError` s."""
    try:
        yield
    except ConnectionRefusedError:
        raise TargetError(
            f"memcached at {dsn} refused the connection",
            hint="check that memcached runs and listens on this host and port (-l, -p)",
        ) from None
    except TimeoutError:
        raise TargetError(
            f"memcached at {dsn} did not answer within {timeout_s:g} s ({what})",
            hint="check the host and port, and that the server is not overloaded",
        ) from None
    except (OSError, MemcacheError) as exc:
        # An OSError's strerror is its text without the "[Errno 104]" before it.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        reason = reason.splitlines()[0] if reason else type(exc).__name__
        raise TargetError(
            f"could not read {what} from memcached at {dsn}: {reason}",
            hint="check the DSN's host and port and that the server speaks the text protocol",
        ) from None
