"""Everything ``redline cache analyze redis://...`` reads from a Redis server.

One pass, each part on its own (a part that cannot be read leaves a note and
the others still run, as :func:`~redline.probes._db_analysis.read_part` does):

- **INFO**: hits and misses, evicted and expired keys, used memory against
  ``maxmemory`` and its policy, fragmentation, clients, ops/s, CPU seconds, the
  last fork and whether a save runs now, keys per database, error replies;
- **CONFIG GET** of the settings INFO lacks (the slow log and latency monitor
  thresholds, ``save``, ``appendonly``); servers often rename CONFIG away, which
  leaves a note;
- **SLOWLOG GET** (commands with their arguments trimmed) and **LATENCY LATEST**
  with **LATENCY DOCTOR**'s text when the latency monitor is on;
- **a sample of the keys** of the DSN's database: SCAN with COUNT, then PTTL
  and MEMORY USAGE of each key in one pipeline per step, until the time budget
  or the key cap is reached. Never KEYS, which blocks the server for the whole
  keyspace. The sample gives the biggest keys (with their type and length) and
  the share of keys without a TTL, in all and per key prefix (the text before
  the first ``:``). Redis counts PTTL and TYPE as lookups in keyspace_hits, so
  INFO is read before the sample and a note says how many it added.

Turning it into findings is :func:`redline.diagnose.cache_findings`'s job.
"""

from __future__ import annotations

import heapq
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from redline.errors import TargetError
from redline.plan import Dsn
from redline.probes._db_analysis import read_part
from redline.units import format_bytes, format_latency

__all__ = [
    "BigKey",
    "KeySample",
    "LatencyEvent",
    "PrefixStats",
    "RedisAnalysis",
    "RedisFigures",
    "RedisPartReader",
    "SlowEntry",
    "analyze_redis",
    "connect_redis",
    "redis_figures",
    "translate_errors",
]

T = TypeVar("T")

#: The name redline's connection gives itself (CLIENT SETNAME): its own commands are
#: left out of the slow log it reads.
CLIENT_NAME = "redline"
CONNECT_TIMEOUT_S = 3.0
#: The ``what`` of connecting (and logging in), in :func:`translate_errors`.
CONNECT = "connect"
#: The hint of an error reply redline has no words of its own for.
_SERVER_LOG_HINT = "check the DSN and the server's log"
#: How redis-py starts a connection error's text.
_CONNECTING = re.compile(r"^Error -?\d+ connecting to \S+?\.? ")
#: Every command but the sampling's own pipelines is small; a server that takes
#: longer than this to answer one is itself the finding.
COMMAND_TIMEOUT_S = 5.0
#: Slow log entries read (the server keeps 128 by default: slowlog-max-len).
SLOWLOG_ENTRIES = 128
#: Keys asked of each SCAN step: large enough to be cheap per key, small enough
#: that one step (and its pipeline) never holds the server for long.
SCAN_COUNT = 200
#: How long the key sample may take, by default (``--scan-seconds``).
DEFAULT_SCAN_S = 2.0
#: At most this many keys are sampled, whatever the time budget.
MAX_SAMPLED_KEYS = 100_000
#: The biggest sampled keys kept.
BIG_KEYS_KEPT = 10
#: Characters of one slow log argument, of a whole command and of a key shown.
ARG_CHARS = 40
COMMAND_CHARS = 200
KEY_CHARS = 80
#: Key prefixes end at the first one of these (``user:42:cart`` -> ``user``).
PREFIX_SEPARATOR = ":"
#: The prefix of keys without a separator.
NO_PREFIX = "(no prefix)"
#: Prefixes tracked; keys beyond them count toward ``(other)``.
MAX_PREFIXES = 200
OTHER_PREFIXES = "(other)"
#: The settings read with CONFIG GET (INFO has maxmemory and its policy already).
CONFIG_NAMES = (
    "maxmemory",
    "maxmemory-policy",
    "slowlog-log-slower-than",
    "latency-monitor-threshold",
    "save",
    "appendonly",
)
#: The command that counts the elements of a key of each type.
LENGTH_COMMANDS = {
    "string": "STRLEN",
    "list": "LLEN",
    "set": "SCARD",
    "zset": "ZCARD",
    "hash": "HLEN",
    "stream": "XLEN",
}


@dataclass(frozen=True, kw_only=True)
class RedisFigures:
    """What INFO says, in the names and units redline uses (counters since the start)."""

    version: str
    uptime_s: int
    keyspace_hits: int
    keyspace_misses: int
    evicted_keys: int
    expired_keys: int
    used_memory_bytes: int
    used_memory_rss_bytes: int
    #: 0: no limit.
    maxmemory_bytes: int
    maxmemory_policy: str
    #: used_memory_rss / used_memory; None when INFO has no figure.
    fragmentation_ratio: float | None
    connected_clients: int
    blocked_clients: int
    ops_per_s: int
    cpu_sys_s: float
    cpu_user_s: float
    #: How long the last fork (RDB save, AOF rewrite, full sync) stopped the server.
    latest_fork_us: int
    total_forks: int
    rdb_bgsave_in_progress: bool
    aof_rewrite_in_progress: bool
    aof_enabled: bool
    rdb_changes_since_last_save: int
    #: Keys, and keys with a TTL, in every database.
    keys: int
    keys_with_ttl: int
    #: Commands refused with an OOM error (maxmemory reached, nothing to evict).
    oom_errors: int

    @property
    def lookups(self) -> int:
        return self.keyspace_hits + self.keyspace_misses

    @property
    def hit_ratio(self) -> float | None:
        """keyspace_hits / (hits + misses); None before the first lookup."""
        return self.keyspace_hits / self.lookups if self.lookups else None

    @property
    def memory_share(self) -> float | None:
        """used_memory / maxmemory; None without a limit."""
        return self.used_memory_bytes / self.maxmemory_bytes if self.maxmemory_bytes else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "hit_ratio": self.hit_ratio, "memory_share": self.memory_share}


def redis_figures(info: Mapping[str, Any], config: Mapping[str, str] | None = None) -> RedisFigures:
    """The figures of an ``INFO all`` reply (as redis-py parses it); pure.

    ``config`` (CONFIG GET's answer) wins over INFO for maxmemory and its policy.
    """
    config = config or {}

    def num(name: str) -> int:
        value = info.get(name, 0)
        return int(value) if isinstance(value, int | float) else 0

    def real(name: str) -> float:
        value = info.get(name, 0.0)
        return float(value) if isinstance(value, int | float) else 0.0

    databases = [v for k, v in info.items() if k.startswith("db") and isinstance(v, Mapping)]
    frag = info.get("mem_fragmentation_ratio")
    oom = info.get("errorstat_OOM")
    return RedisFigures(
        version=str(info.get("redis_version", "?")),
        uptime_s=num("uptime_in_seconds"),
        keyspace_hits=num("keyspace_hits"),
        keyspace_misses=num("keyspace_misses"),
        evicted_keys=num("evicted_keys"),
        expired_keys=num("expired_keys"),
        used_memory_bytes=num("used_memory"),
        used_memory_rss_bytes=num("used_memory_rss"),
        maxmemory_bytes=int(config.get("maxmemory") or num("maxmemory")),
        maxmemory_policy=str(config.get("maxmemory-policy") or info.get("maxmemory_policy", "?")),
        fragmentation_ratio=float(frag) if isinstance(frag, int | float) else None,
        connected_clients=num("connected_clients"),
        blocked_clients=num("blocked_clients"),
        ops_per_s=num("instantaneous_ops_per_sec"),
        cpu_sys_s=real("used_cpu_sys"),
        cpu_user_s=real("used_cpu_user"),
        latest_fork_us=num("latest_fork_usec"),
        total_forks=num("total_forks"),
        rdb_bgsave_in_progress=bool(num("rdb_bgsave_in_progress")),
        aof_rewrite_in_progress=bool(num("aof_rewrite_in_progress")),
        aof_enabled=bool(num("aof_enabled")),
        rdb_changes_since_last_save=num("rdb_changes_since_last_save"),
        keys=sum(int(db.get("keys", 0)) for db in databases),
        keys_with_ttl=sum(int(db.get("expires", 0)) for db in databases),
        oom_errors=int(oom.get("count", 0)) if isinstance(oom, Mapping) else 0,
    )


@dataclass(frozen=True)
class SlowEntry:
    """One SLOWLOG entry: a command that ran longer than slowlog-log-slower-than."""

    id: int
    #: Unix time the command started.
    started_s: int
    duration_us: int
    #: The command name, upper case (``KEYS``).
    name: str
    #: The command and its arguments, each trimmed.
    command: str
    client: str


@dataclass(frozen=True)
class LatencyEvent:
    """One LATENCY LATEST row: the latest and the worst spike of one event class."""

    event: str
    at_s: int
    latest_ms: int
    max_ms: int


@dataclass(frozen=True)
class BigKey:
    key: str
    type: str
    #: MEMORY USAGE (sampled by the server for aggregates: an estimate).
    bytes: int
    #: Elements (or a string's length); None when not read.
    elements: int | None = None


@dataclass
class PrefixStats:
    """The sampled keys that share one prefix."""

    prefix: str
    keys: int = 0
    without_ttl: int = 0
    bytes: int = 0


@dataclass
class KeySample:
    """What a bounded SCAN of one database saw."""

    database: int
    #: DBSIZE when the sample began.
    total_keys: int
    sampled: int = 0
    without_ttl: int = 0
    #: True when SCAN went round the whole keyspace.
    complete: bool = False
    #: ``end`` (the whole keyspace), ``time`` (the budget) or ``cap`` (the key cap).
    stopped_by: str = "end"
    elapsed_s: float = 0.0
    budget_s: float = DEFAULT_SCAN_S
    big: list[BigKey] = field(default_factory=list)
    prefixes: dict[str, PrefixStats] = field(default_factory=dict)
    #: Key lookups the sample made (PTTL, TYPE, lengths): Redis adds them to
    #: keyspace_hits and keyspace_misses.
    lookups: int = 0

    @property
    def without_ttl_share(self) -> float | None:
        return self.without_ttl / self.sampled if self.sampled else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["prefixes"] = [asdict(p) for p in self.prefixes.values()]
        data["without_ttl_share"] = self.without_ttl_share
        return data


@dataclass
class RedisAnalysis:
    """What was read from one Redis server, and notes on what could not be."""

    dsn: str
    figures: RedisFigures | None = None
    #: CONFIG GET's answer; None when CONFIG is disabled.
    config: dict[str, str] | None = None
    slowlog: list[SlowEntry] | None = None
    latency: list[LatencyEvent] | None = None
    #: LATENCY DOCTOR's text, when the latency monitor is on.
    latency_doctor: str | None = None
    keys: KeySample | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> list[tuple[str, str, str]]:
        """The figures a person reads first: (label, value, source) rows for a table."""
        rows: list[tuple[str, str, str]] = []
        if (f := self.figures) is not None:
            rows += _figure_rows(f)
        if self.slowlog is not None:
            worst = max((e.duration_us for e in self.slowlog), default=0)
            slow = f"{len(self.slowlog)} entries, the slowest {format_latency(worst)}"
            rows.append(("slow log", slow if self.slowlog else "empty", "SLOWLOG GET"))
        if self.latency:
            events = ", ".join(f"{e.event} {e.max_ms} ms" for e in self.latency)
            rows.append(("latency events (worst)", events, "LATENCY LATEST"))
        if (k := self.keys) is not None:
            rows.append(("keys sampled", f"{k.sampled:,} of {k.total_keys:,} in db "
                         f"{k.database}, {k.elapsed_s:.2f} s (stopped by: {k.stopped_by})",
                         "SCAN + MEMORY USAGE"))  # fmt: skip
            if k.without_ttl_share is not None:
                rows.append(("sampled keys without TTL", f"{k.without_ttl_share:.0%}", "PTTL"))
            if k.big:
                top = k.big[0]
                rows.append(("biggest sampled key", f"{top.key} ({top.type}, "
                             f"{format_bytes(top.bytes)})", "MEMORY USAGE"))  # fmt: skip
        return rows

    def to_dict(self) -> dict[str, Any]:
        """For ``--json``."""
        return {
            "dsn": self.dsn,
            "figures": self.figures.to_dict() if self.figures else None,
            "config": self.config,
            "slowlog": [asdict(e) for e in self.slowlog] if self.slowlog is not None else None,
            "latency": [asdict(e) for e in self.latency] if self.latency is not None else None,
            "latency_doctor": self.latency_doctor,
            "keys": self.keys.to_dict() if self.keys else None,
        }


def _figure_rows(f: RedisFigures) -> list[tuple[str, str, str]]:
    ratio = "no lookups yet" if f.hit_ratio is None else f"{f.hit_ratio:.1%}"
    limit = format_bytes(f.maxmemory_bytes) if f.maxmemory_bytes else "no limit"
    frag = "?" if f.fragmentation_ratio is None else f"{f.fragmentation_ratio:.2f}"
    cpu = f.cpu_sys_s + f.cpu_user_s
    return [
        ("server", f"Redis {f.version}, up {f.uptime_s:,} s", "INFO server"),
        ("hit ratio", f"{ratio} ({f.keyspace_hits:,} hits, {f.keyspace_misses:,} misses)",
         "INFO keyspace_hits, keyspace_misses"),
        ("evicted / expired keys", f"{f.evicted_keys:,} / {f.expired_keys:,}", "INFO stats"),
        ("used memory / maxmemory", f"{format_bytes(f.used_memory_bytes)} / {limit} "
         f"({f.maxmemory_policy})", "INFO memory"),
        ("fragmentation ratio", f"{frag} (RSS {format_bytes(f.used_memory_rss_bytes)})",
         "INFO mem_fragmentation_ratio"),
        ("keys (with TTL)", f"{f.keys:,} ({f.keys_with_ttl:,})", "INFO keyspace"),
        ("clients connected / blocked", f"{f.connected_clients} / {f.blocked_clients}",
         "INFO clients"),
        ("ops/s now", f"{f.ops_per_s:,}", "INFO instantaneous_ops_per_sec"),
        ("CPU since start", f"{cpu:,.1f} s (sys {f.cpu_sys_s:,.1f}, user {f.cpu_user_s:,.1f}; "
         f"{cpu / max(f.uptime_s, 1):.1%} of a core)", "INFO used_cpu_sys, used_cpu_user"),
        ("last fork", f"{format_latency(f.latest_fork_us)} ({f.total_forks:,} forks; save "
         f"running: {'yes' if f.rdb_bgsave_in_progress else 'no'})", "INFO persistence"),
    ]  # fmt: skip


def analyze_redis(
    dsn: Dsn,
    *,
    scan_s: float = DEFAULT_SCAN_S,
    max_keys: int = MAX_SAMPLED_KEYS,
    now_s: Callable[[], float] = time.monotonic,
) -> RedisAnalysis:
    """Read the Redis server behind ``dsn``; the key sample takes at most about ``scan_s``.

    Raises:
        TargetError: the server cannot be reached or refuses the login (nothing to show).
    """
    result = RedisAnalysis(str(dsn))
    client = connect_redis(dsn)
    try:
        part = RedisPartReader(result.notes, dsn)
        result.config = part("CONFIG GET", lambda: _config(client))
        info = part("INFO", lambda: client.info("all"))
        if info is not None:
            result.figures = redis_figures(info, result.config)
        result.slowlog = part("SLOWLOG GET", lambda: _slowlog(client))
        result.latency = part("LATENCY LATEST", lambda: _latency(client))
        if result.latency is not None and _latency_monitor_on(result.config, result.latency):
            result.latency_doctor = part("LATENCY DOCTOR", lambda: _doctor(client))
        database = int(dsn.database or 0)
        if scan_s > 0:
            result.keys = part(
                "key sample", lambda: sample_keys(client, database, scan_s, max_keys, now_s)
            )
        if result.keys is not None and result.keys.lookups:
            result.notes.append(
                f"key sample: its {result.keys.lookups:,} key lookups (PTTL, TYPE) now count "
                "in the server's keyspace_hits/misses; this analysis read them before "
                "(--scan-seconds 0 skips the sample)"
            )
        else:
            result.notes.append("key sample: skipped (a time budget of 0 s)")
    finally:
        client.close()
    return result


class RedisPartReader:
    """One part of a reading: redis-py's errors become a note (see ``read_part``).

    Args:
        notes: where a part that cannot be read leaves its note.
        dsn: the server, as the notes name it.
        timeout_s: the connection's command timeout, as a timeout's note says it.
    """

    def __init__(self, notes: list[str], dsn: Dsn, *, timeout_s: float = COMMAND_TIMEOUT_S) -> None:
        self.notes, self.dsn, self.timeout_s = notes, dsn, timeout_s

    def __call__(self, what: str, read: Callable[[], T]) -> T | None:
        def translated() -> T:
            with translate_errors(self.dsn, what, timeout_s=self.timeout_s):
                return read()

        return read_part(self.notes, what, translated)


def connect_redis(
    dsn: Dsn, *, timeout_s: float = COMMAND_TIMEOUT_S, single_connection: bool = False
) -> redis.Redis:
    """A client of the server at ``dsn``, named ``redline``, logged in and answering (PING).

    Args:
        dsn: the server; its password goes to the server only.
        timeout_s: how long one command may take.
        single_connection: one connection for every command, made now (a sampler's
            own, so that the server's client count can leave it out); otherwise a pool,
            which pipelines draw from.

    Raises:
        TargetError: refused, unreachable, timed out or the login refused; the message
            names the DSN without its password and says what to check.
    """
    with translate_errors(dsn, CONNECT, timeout_s=timeout_s):
        client = redis.Redis(
            host=dsn.host,
            port=dsn.port,
            db=int(dsn.database or 0),
            username=dsn.user,
            password=dsn.password(),
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=timeout_s,
            decode_responses=True,
            # RESP2: servers before 6.0 know no HELLO, and the replies parse the same everywhere.
            protocol=2,
            client_name=CLIENT_NAME,
            single_connection_client=single_connection,
            # One try: a retry would only delay the error (and a sampler's next reading).
            retry=Retry(NoBackoff(), 0),
        )
    try:
        with translate_errors(dsn, CONNECT, timeout_s=timeout_s):
            client.ping()
    except TargetError:
        client.close()
        raise
    return client


@contextmanager
def translate_errors(
    dsn: Dsn, what: str, *, timeout_s: float = COMMAND_TIMEOUT_S
) -> Iterator[None]:
    """redis-py's errors as one-line :class:`TargetError` s without the password.

    Args:
        dsn: the server the message names (``str(dsn)`` never shows the password).
        what: the command read (``INFO``, ``CONFIG GET``) or :data:`CONNECT`.
        timeout_s: the client's command timeout, for a timeout's message.
    """
    try:
        yield
    except redis.AuthenticationError as exc:
        raise _auth_error(exc, dsn) from None
    except redis.TimeoutError:
        raise TargetError(
            f"Redis at {dsn} did not answer within {timeout_s:g} s ({what})",
            hint="check the server is not blocked (a long command, a fork) and the host is right",
        ) from None
    except redis.ConnectionError as exc:
        raise _connection_error(exc, dsn, what) from None
    except redis.ResponseError as exc:
        raise _response_error(exc, dsn, what) from None
    except redis.RedisError as exc:
        text = _scrub(str(exc), dsn)
        raise TargetError(
            f"Redis at {dsn}: {text.splitlines()[0] if text else type(exc).__name__} ({what})",
            hint=_SERVER_LOG_HINT,
        ) from None


def _auth_error(exc: redis.AuthenticationError, dsn: Dsn) -> TargetError:
    if dsn.password() is None:
        return TargetError(
            f"Redis at {dsn} requires a password and the DSN has none (NOAUTH)",
            hint="give it in the DSN: redis://[user]:PASSWORD@host:port",
        )
    return TargetError(
        f"Redis at {dsn} refused the login: wrong password or user (WRONGPASS)",
        hint="check the DSN's password, and the user name when the server uses ACL users",
    )


def _connection_error(exc: redis.ConnectionError, dsn: Dsn, what: str) -> TargetError:
    text = _scrub(str(exc), dsn)
    if "refused" in text.lower():
        return TargetError(
            f"Redis at {dsn} refused the connection",
            hint="check that redis-server runs and listens on this host and port "
            "(bind and port in redis.conf)",
        )
    if "NOAUTH" in text or "Authentication required" in text:
        return _auth_error(redis.AuthenticationError(text), dsn)
    # "Error 111 connecting to host:port. " repeats what the message says already.
    reason = _CONNECTING.sub("", text.splitlines()[0] if text else "") or "?"
    if what == CONNECT:
        return TargetError(
            f"could not connect to Redis at {dsn}: {reason}",
            hint="check the DSN's host and port and that the server accepts connections",
        )
    return TargetError(
        f"could not read {what} from Redis at {dsn}: {reason}",
        hint="check that the server still runs (its log says why it closed the connection)",
    )


def _response_error(exc: redis.ResponseError, dsn: Dsn, what: str) -> TargetError:
    text = _scrub(str(exc), dsn)
    if text.startswith(("NOAUTH", "WRONGPASS")):
        return _auth_error(redis.AuthenticationError(text), dsn)
    if "unknown command" in text.lower():
        return TargetError(
            f"{what.split()[0]} is not available (renamed or disabled by rename-command)",
            hint="figures that need it are left out",
        )
    if isinstance(exc, redis.exceptions.NoPermissionError) or text.startswith("NOPERM"):
        return TargetError(
            f"the user may not run {what.split()[0]} (NOPERM)",
            hint=f"grant it: ACL SETUSER {dsn.user or 'default'} +{what.split()[0].lower()}",
        )
    return TargetError(
        f"Redis at {dsn}: {text.splitlines()[0] if text else '?'} ({what})",
        hint=_SERVER_LOG_HINT,
    )


def _scrub(text: str, dsn: Dsn) -> str:
    password = dsn.password()
    return text.replace(password, "***") if password else text


def _config(client: redis.Redis) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in CONFIG_NAMES:  # one name per call: several in one need Redis 7
        found.update({str(k): str(v) for k, v in client.config_get(name).items()})
    return found


def _slowlog(client: redis.Redis) -> list[SlowEntry]:
    entries = []
    for raw in client.slowlog_get(SLOWLOG_ENTRIES):
        # redis-py leaves the command, the client's address and name as bytes even
        # with decode_responses.
        if _text(raw.get("client_name")) == CLIENT_NAME:
            continue
        words = _text(raw.get("command")).split(" ")
        entries.append(
            SlowEntry(
                id=int(raw["id"]),
                started_s=int(raw["start_time"]),
                duration_us=int(raw["duration"]),
                name=words[0].upper() if words[0] else "?",
                command=trim_command(words),
                client=_text(raw.get("client_address")),
            )
        )
    return entries


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def trim_command(words: list[str]) -> str:
    """A command's words, each at most ``ARG_CHARS`` and the whole ``COMMAND_CHARS``."""
    text = " ".join(w if len(w) <= ARG_CHARS else w[:ARG_CHARS] + "..." for w in words)
    return text if len(text) <= COMMAND_CHARS else text[:COMMAND_CHARS] + "..."


def _latency(client: redis.Redis) -> list[LatencyEvent]:
    rows = client.execute_command(  # type: ignore[no-untyped-call]
        "LATENCY", "LATEST"
    )
    return [LatencyEvent(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows or []]


def _latency_monitor_on(config: dict[str, str] | None, events: list[LatencyEvent]) -> bool:
    if config is None:
        return bool(events)
    return int(config.get("latency-monitor-threshold") or 0) > 0


def _doctor(client: redis.Redis) -> str:
    return str(
        client.execute_command(  # type: ignore[no-untyped-call]
            "LATENCY", "DOCTOR"
        )
    )


def sample_keys(
    client: redis.Redis,
    database: int,
    budget_s: float,
    max_keys: int,
    now_s: Callable[[], float] = time.monotonic,
) -> KeySample:
    """Sample the keys of the client's database by SCAN, within ``budget_s`` and ``max_keys``.

    Each SCAN step's keys are read in one pipeline (PTTL, MEMORY USAGE), so the
    server serves other clients between steps. The biggest keys' types and element
    counts are read at the end. PTTL, TYPE and the length commands count as
    lookups in Redis's keyspace_hits (MEMORY USAGE does not): ``lookups`` says how
    many the sample made.
    """
    start = now_s()
    sample = KeySample(database, int(client.dbsize()), budget_s=budget_s)
    biggest: list[tuple[int, str]] = []  # a min-heap of (bytes, key)
    cursor = 0
    while True:
        cursor, found = client.scan(cursor=cursor, count=SCAN_COUNT)
        keys = [str(k) for k in found[: max_keys - sample.sampled]]
        if keys:
            _sample_step(client, keys, sample, biggest)
        if cursor == 0:
            sample.complete, sample.stopped_by = True, "end"
            break
        if sample.sampled >= max_keys:
            sample.stopped_by = "cap"
            break
        if now_s() - start >= budget_s:
            sample.stopped_by = "time"
            break
    sample.big = _typed(client, sorted(biggest, reverse=True))
    sample.lookups += 2 * len(biggest)
    sample.elapsed_s = now_s() - start
    return sample


def _sample_step(
    client: redis.Redis, keys: list[str], sample: KeySample, biggest: list[tuple[int, str]]
) -> None:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.pttl(key)
        pipe.memory_usage(key)
    replies = pipe.execute(raise_on_error=False)
    sample.lookups += len(keys)
    for index, key in enumerate(keys):
        ttl_ms, size = replies[2 * index : 2 * index + 2]
        if ttl_ms == -2 or not isinstance(size, int):
            continue  # gone between SCAN and now
        sample.sampled += 1
        no_ttl = ttl_ms == -1
        sample.without_ttl += no_ttl
        stats = _prefix(sample, key)
        stats.keys, stats.without_ttl, stats.bytes = (
            stats.keys + 1,
            stats.without_ttl + no_ttl,
            stats.bytes + size,
        )
        if len(biggest) < BIG_KEYS_KEPT:
            heapq.heappush(biggest, (size, key))
        elif (size, key) > biggest[0]:
            heapq.heapreplace(biggest, (size, key))


def _prefix(sample: KeySample, key: str) -> PrefixStats:
    head, separator, _ = key.partition(PREFIX_SEPARATOR)
    prefix = head[:KEY_CHARS] if separator else NO_PREFIX
    if prefix not in sample.prefixes and len(sample.prefixes) >= MAX_PREFIXES:
        prefix = OTHER_PREFIXES
    return sample.prefixes.setdefault(prefix, PrefixStats(prefix))


def _typed(client: redis.Redis, biggest: list[tuple[int, str]]) -> list[BigKey]:
    """The biggest keys with their type and element count (or a string's length)."""
    if not biggest:
        return []
    pipe = client.pipeline(transaction=False)
    for _, key in biggest:
        pipe.type(key)
    kinds = [str(k) for k in pipe.execute(raise_on_error=False)]
    pipe = client.pipeline(transaction=False)
    for (_, key), kind in zip(biggest, kinds, strict=True):
        pipe.execute_command(  # type: ignore[no-untyped-call]
            LENGTH_COMMANDS.get(kind, "EXISTS"), key
        )
    counts = pipe.execute(raise_on_error=False)
    return [
        BigKey(
            key=key if len(key) <= KEY_CHARS else key[:KEY_CHARS] + "...",
            type=kind,
            bytes=size,
            elements=count if isinstance(count, int) and kind in LENGTH_COMMANDS else None,
        )
        for (size, key), kind, count in zip(biggest, kinds, counts, strict=True)
    ]
