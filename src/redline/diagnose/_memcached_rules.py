"""A memcached server's health, as findings (``redline cache analyze memcached://...``).

Each rule reads :class:`~redline.probes._memcached.MemcachedAnalysis` and
reports past a threshold named below (and stated in the finding's evidence):

- **hit ratio** (get_hits / cmd_get) below 80 % once 1,000 gets happened;
- **evictions**: items evicted since the start (the memory limit ``-m`` is full);
- **evicted unfetched**: half or more of the evicted items (100 or more) were
  never read: the cache is too small to keep items until their first read, or
  stores items nobody reads;
- **connection limit**: memcached refused a connection over its limit (``-c``:
  ``rejected_connections``, as 1.6 does by default) or stopped accepting them
  (``listen_disabled_num``: out of file descriptors, or ``-c`` without
  maxconns_fast), at least once;
- **connection yields**: 100 or more times (and once per 1,000 gets and sets or
  more often) a connection sent more than ``-R`` requests at once and had to
  yield to the others;
- **slab imbalance**: slab classes that evict while other classes keep 2 MiB or
  more of free chunks (pages stay with the class that first took them unless
  slab_automove moves them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.probes._memcached import MemcachedAnalysis, MemcachedFigures
from redline.units import format_bytes

__all__ = ["memcached_findings"]

#: A hit ratio below this is reported...
HIT_RATIO_MIN = 0.8
#: ...once this many gets happened.
MIN_LOOKUPS = 1_000
#: Evicted items never read, as a share of the evictions...
EVICTED_UNFETCHED_SHARE = 0.5
#: ...and at least this many.
EVICTED_UNFETCHED_MIN = 100
#: Connection yields reported from this many...
CONN_YIELDS_MIN = 100
#: ...and this many per get or set command.
CONN_YIELDS_SHARE = 0.001
#: memcached's default ``-R``, assumed when ``stats settings`` was not read.
DEFAULT_REQS_PER_EVENT = 20
#: Free chunks in classes that do not evict, from this many bytes, beside classes that do.
SLAB_SPARE_MIN_BYTES = 2 * 1024**2
#: Slab classes listed in one finding.
SLABS_SHOWN = 5

_STATS = "stats"

_Rule = Callable[[MemcachedAnalysis], Iterable[Finding]]


def memcached_findings(analysis: MemcachedAnalysis) -> list[Finding]:
    """Every finding on ``analysis``, rule by rule (rank them with ``ranked``)."""
    return [finding for rule in _RULES for finding in rule(analysis)]


def _hit_ratio(analysis: MemcachedAnalysis) -> Iterable[Finding]:
    f = analysis.figures
    if f is None or f.hit_ratio is None or f.cmd_get < MIN_LOOKUPS or f.hit_ratio >= HIT_RATIO_MIN:
        return
    causes = []
    if f.evictions:
        causes.append(
            f"items are evicted before they are read again: raise -m "
            f"(now {_mb(f.limit_maxbytes)}) to -m {_suggested_mb(f)}"
        )
    causes.append(
        "check that items are stored on a miss, under the same key they are read with, "
        "and that their expiry time is not shorter than the time between reads"
    )
    yield Finding(
        rule="memcached-hit-ratio",
        category=Category.CACHE,
        severity=Severity.HIGH if f.hit_ratio < HIT_RATIO_MIN / 2 else Severity.MEDIUM,
        confidence=0.8,
        title=f"Hit ratio is {f.hit_ratio:.1%}: {f.get_misses:,} of {f.cmd_get:,} gets missed",
        evidence=(
            Evidence(
                "hit ratio",
                f"{f.hit_ratio:.1%} (threshold {HIT_RATIO_MIN:.0%})",
                f"{_STATS} get_hits / cmd_get",
            ),
            Evidence(
                "gets, hits, misses", f"{f.cmd_get:,}, {f.get_hits:,}, {f.get_misses:,}", _STATS
            ),
            Evidence("evictions", f"{f.evictions:,}", f"{_STATS} evictions"),
        ),
        location=None,
        recommendation="; ".join(causes),
        expected_effect="more reads served by memcached instead of the slower source behind it",
    )


def _evictions(analysis: MemcachedAnalysis) -> Iterable[Finding]:
    f = analysis.figures
    if f is None or f.evictions == 0:
        return
    yield Finding(
        rule="memcached-evictions",
        category=Category.CACHE,
        severity=Severity.MEDIUM,
        confidence=0.8,
        title=f"memcached evicts items: {f.evictions:,} evicted, its memory "
        f"({_mb(f.limit_maxbytes)}) is full",
        evidence=(
            Evidence("evictions", f"{f.evictions:,} in {f.uptime_s:,} s", f"{_STATS} evictions"),
            Evidence(
                "bytes / limit",
                f"{format_bytes(f.bytes)} of {format_bytes(f.limit_maxbytes)}",
                f"{_STATS} bytes, limit_maxbytes",
            ),
            Evidence("items", f"{f.curr_items:,}", f"{_STATS} curr_items"),
        ),
        location="flag: -m",
        recommendation=f"start memcached with more memory (-m {_suggested_mb(f)}, in MB) "
        "or store less: shorter expiry times, smaller values",
        expected_effect="items stay until they expire; fewer misses",
    )


def _evicted_unfetched(analysis: MemcachedAnalysis) -> Iterable[Finding]:
    f = analysis.figures
    if f is None or f.evicted_unfetched < EVICTED_UNFETCHED_MIN:
        return
    share = f.evicted_unfetched / f.evictions if f.evictions else 1.0
    if share < EVICTED_UNFETCHED_SHARE:
        return
    yield Finding(
        rule="memcached-evicted-unfetched",
        category=Category.CACHE,
        severity=Severity.MEDIUM,
        confidence=0.7,
        title=f"{share:.0%} of the evicted items were never read "
        f"({f.evicted_unfetched:,} of {f.evictions:,})",
        evidence=(
            Evidence(
                "evicted unfetched / evictions",
                f"{f.evicted_unfetched:,} / "
                f"{f.evictions:,} (threshold {EVICTED_UNFETCHED_SHARE:.0%} and "
                f"{EVICTED_UNFETCHED_MIN})",
                f"{_STATS} evicted_unfetched",
            ),
            Evidence(
                "expired unfetched", f"{f.expired_unfetched:,}", f"{_STATS} expired_unfetched"
            ),
        ),
        location="flag: -m",
        recommendation="either the cache is too small to keep items until their first "
        f"read (raise -m to {_suggested_mb(f)}) or the application caches what nobody "
        "reads: stop storing those items (cache on read, not on write)",
        expected_effect="memory spent on items that are read",
    )


def _listen_disabled(analysis: MemcachedAnalysis) -> Iterable[Finding]:
    f = analysis.figures
    if f is None or (f.listen_disabled_num == 0 and f.rejected_connections == 0):
        return
    yield Finding(
        rule="memcached-connection-limit",
        category=Category.CONFIGURATION,
        severity=Severity.HIGH,
        confidence=0.9,
        title=f"memcached hit its connection limit ({f.max_connections:,}): "
        f"{f.rejected_connections:,} connection(s) refused, listening stopped "
        f"{f.listen_disabled_num:,} time(s)",
        evidence=(
            Evidence(
                "rejected connections (over -c)",
                f"{f.rejected_connections:,} (threshold 1)",
                f"{_STATS} rejected_connections",
            ),
            Evidence(
                "listening stopped (out of file descriptors)",
                f"{f.listen_disabled_num:,} (threshold 1)",
                f"{_STATS} listen_disabled_num",
            ),
            Evidence(
                "connections now / limit",
                f"{f.curr_connections:,} / {f.max_connections:,}",
                f"{_STATS} curr_connections, max_connections",
            ),
        ),
        location="flag: -c",
        recommendation=f"raise the limit (-c {2 * max(f.max_connections, 1024)}, and the "
        "open-files limit with it: ulimit -n) or use fewer connections per client "
        "(a shared pool)",
        expected_effect="new connections are accepted at once instead of refused or waiting",
    )


def _conn_yields(analysis: MemcachedAnalysis) -> Iterable[Finding]:
    f = analysis.figures
    if f is None or f.conn_yields < CONN_YIELDS_MIN:
        return
    commands = f.cmd_get + f.cmd_set
    if commands and f.conn_yields / commands < CONN_YIELDS_SHARE:
        return
    now = f.reqs_per_event or DEFAULT_REQS_PER_EVENT
    yield Finding(
        rule="memcached-conn-yields",
        category=Category.CONCURRENCY,
        severity=Severity.LOW,
        confidence=0.6,
        title=f"Connections yielded {f.conn_yields:,} times after -R {now} requests at once",
        evidence=(
            Evidence(
                "conn_yields",
                f"{f.conn_yields:,} in {commands:,} gets and sets (threshold "
                f"{CONN_YIELDS_MIN:,}, and 1 per {1 / CONN_YIELDS_SHARE:,.0f})",
                f"{_STATS} conn_yields",
            ),
            Evidence("-R (requests per event)", f"{now}", "stats settings reqs_per_event"),
        ),
        location="flag: -R",
        recommendation=f"clients send big multi-gets or long pipelines: raise -R (e.g. "
        f"-R {max(now * 5, 100)}) so each is served in one go, or split them into smaller "
        "batches",
        expected_effect="big batches are not interrupted and resumed; less latency for them",
    )


def _slab_imbalance(analysis: MemcachedAnalysis) -> Iterable[Finding]:
    if not analysis.slabs:
        return
    evicting = sorted((s for s in analysis.slabs if s.evicted), key=lambda s: -s.evicted)
    spare = sorted(
        (s for s in analysis.slabs if not s.evicted and s.free_chunks), key=lambda s: -s.free_bytes
    )
    spare_bytes = sum(s.free_bytes for s in spare)
    if not evicting or spare_bytes < SLAB_SPARE_MIN_BYTES:
        return
    f = analysis.figures
    automove = f.slab_automove if f is not None else None
    yield Finding(
        rule="memcached-slab-imbalance",
        category=Category.CACHE,
        severity=Severity.MEDIUM,
        confidence=0.65,
        title=f"Slab classes {', '.join(str(s.id) for s in evicting[:SLABS_SHOWN])} evict "
        f"while other classes hold {format_bytes(spare_bytes)} of free chunks",
        evidence=(
            *(
                Evidence(
                    f"class {s.id} ({format_bytes(s.chunk_size)} chunks)",
                    f"{s.evicted:,} evicted, {s.pages} page(s)",
                    "stats items, stats slabs",
                )
                for s in evicting[:SLABS_SHOWN]
            ),
            *(
                Evidence(
                    f"class {s.id} ({format_bytes(s.chunk_size)} chunks)",
                    f"{s.free_chunks:,} free chunks ({format_bytes(s.free_bytes)}), "
                    f"{s.pages} page(s), no evictions",
                    "stats slabs",
                )
                for s in spare[:SLABS_SHOWN]
            ),
            Evidence(
                "judged",
                f"free chunks of {format_bytes(SLAB_SPARE_MIN_BYTES)} or more "
                "beside evicting classes",
                "redline",
            ),
            Evidence("slab_automove", "?" if automove is None else str(automove), "stats settings"),
        ),
        location="flag: -o slab_reassign,slab_automove",
        recommendation="let memcached move pages between classes: -o "
        "slab_reassign,slab_automove=1 (the default since 1.5; 2 moves them more eagerly); "
        f"or move one by hand now: slabs reassign {spare[0].id} {evicting[0].id}; if item "
        "sizes changed for good, a restart resets the classes",
        expected_effect="the evicting classes get the idle pages: fewer evictions at the same -m",
    )


def _mb(n: int) -> str:
    return f"{n // 1024**2} MB"


def _suggested_mb(f: MemcachedFigures) -> int:
    """Twice the current limit, in MB, as a starting point."""
    return max(2 * (f.limit_maxbytes // 1024**2), 64)


_RULES: tuple[_Rule, ...] = (
    _hit_ratio,
    _evictions,
    _evicted_unfetched,
    _listen_disabled,
    _conn_yields,
    _slab_imbalance,
)
