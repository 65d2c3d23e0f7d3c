"""A cache during a run (``redline run ... --cache redis://...|memcached://...``).

Two resource probes (see :class:`redline.metrics.ResourceSampler`), read each
second, each on one connection of its own opened by ``prime()`` and closed by
``close()`` (and left out of the client counts):

- :class:`RedisActivityProbe`: ``INFO`` (sections stats, memory, cpu, clients
  and persistence).
- :class:`MemcachedActivityProbe`: ``stats``.

And two run watchers (``start``/``stop`` at the run's start and end), whose
:meth:`~RedisWatch.check` connects before any load is sent, so a cache that
refuses stops the run with a one-line error:

- :class:`RedisWatch`: the server's settings that the rules weigh (the
  eviction policy, the slowlog's threshold) and the ``SLOWLOG`` entries logged
  during the run (those newer than the newest entry at the start).
- :class:`MemcachedWatch`: the server's settings (connection limit, memory limit).

**The figures of a sample** (counters as rates over the sample's interval):

=========================  =====================================================
``hits_per_s``             lookups that found their key (Redis keyspace_hits,
                           memcached get_hits)
``misses_per_s``           lookups that did not
``lookups_per_s``          both
``hit_ratio``              hits / lookups in the interval; None without lookups
``ops_per_s``              commands (Redis total_commands_processed, less the
                           probe's own INFO); memcached: gets and sets
``cpu``                    the server's CPU seconds per second (1.0 = one core;
                           Redis runs commands on one thread)
``used_memory_bytes``      memory used (Redis used_memory, memcached bytes)
``maxmemory_bytes``        its limit (maxmemory, 0 = none; limit_maxbytes)
``evicted_keys_per_s``     Redis: keys evicted for maxmemory
``expired_keys_per_s``     Redis: keys expired by their TTL
``mem_fragmentation_ratio``  Redis: RSS over used memory
``connected_clients``      Redis: clients, the probe's own left out
``blocked_clients``        Redis: clients in a blocking command
``forks``                  Redis: forks (BGSAVE, AOF rewrite) in the interval
``latest_fork_us``         Redis: how long the latest fork blocked the server
``bgsave_in_progress``     Redis: 1 while an RDB save runs
``aof_rewrite_in_progress``  Redis: 1 while an AOF rewrite runs
``evictions_per_s``        memcached: items evicted to make room
``curr_connections``       memcached: connections, the probe's own left out
``listen_disabled``        memcached: times it stopped accepting at its connection
                           limit (listen_disabled_num) in the interval
``rejected_connections``   memcached: connections refused at the limit in the interval
                           (memcached 1.5+ with maxconns_fast, its default since 1.6)
``conn_yields``            memcached: times a busy connection was made to yield
=========================  =====================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from redline.clock import NS_PER_S, Clock, MonotonicClock
from redline.errors import TargetError
from redline.plan import Dsn
from redline.units import one_line

# The adapters (redline.probes._redis, ._memcached) load their drivers: they are
# imported where a cache is asked for, so ``import redline.cli`` loads neither.
if TYPE_CHECKING:
    from redis import Redis

    from redline.probes._memcached import MemcachedFigures
    from redline.probes._redis import RedisFigures

#: A pymemcache client (pymemcache has no type hints).
MemcacheClient = Any

_Client = TypeVar("_Client")

__all__ = [
    "CACHE_SCHEMES",
    "MemcachedActivityProbe",
    "MemcachedWatch",
    "RedisActivityProbe",
    "RedisWatch",
    "cache_activity_probe",
    "cache_watch",
]

#: How long one command may take (INFO, SLOWLOG GET) before the cache counts as gone: less
#: than the analysis allows, as one stuck cache holds up every probe's next sample.
COMMAND_TIMEOUT_S: Final = 3.0
#: The name redline's connections carry (``CLIENT SETNAME``, the adapter's ``CLIENT_NAME``;
#: not imported, which would load redis-py), to leave them out of the slowlog.
CLIENT_NAME: Final = "redline"
#: The INFO sections a sample reads (Redis 7 takes several at once; older servers all).
INFO_SECTIONS: Final = ("stats", "memory", "cpu", "clients", "persistence")
#: Slowlog entries read at the end of the run (the slowlog keeps 128 by default).
SLOWLOG_READ: Final = 1024
#: Of a slow command, the words kept (the command and its first arguments) ...
SLOW_COMMAND_WORDS: Final = 4
#: ... each cut to this many characters.
SLOW_COMMAND_WORD_CHARS: Final = 64
#: Decimals kept of a rate (per second) and of a share (a ratio, CPU in cores).
RATE_DIGITS: Final = 2
SHARE_DIGITS: Final = 4


class RedisActivityProbe:
    """Redis's hits, misses, evictions, memory, clients, CPU and forks, per sample."""

    def __init__(self, dsn: Dsn, *, connect: Callable[[Dsn], Redis] | None = None) -> None:
        self.dsn = dsn
        self.name = f"cache {dsn}"
        self._connect = connect or _connect_redis
        self._client: Redis | None = None
        self._sections: tuple[str, ...] = INFO_SECTIONS
        self._last: dict[str, float] = {}

    def prime(self) -> None:
        """Connect and take the counters' first reading."""
        self._client = _for_sampler(self._connect, self.dsn)
        try:
            info = self._info()
        except OSError as exc:
            if "syntax" not in str(exc).lower():
                raise
            self._sections = ()  # a Redis before 7 reads one section at a time: all of them
            info = self._info()
        self._last = _redis_counters(info, _redis_figures(info))

    def sample(self, elapsed_s: float) -> dict[str, Any] | None:
        """The figures since the last sample."""
        if self._client is None:
            return None
        info = self._info()
        f = _redis_figures(info)
        now = _redis_counters(info, f)
        per_s = 1.0 / elapsed_s if elapsed_s > 0 else 0.0
        delta = {k: max(0.0, now[k] - self._last.get(k, now[k])) for k in now}
        self._last = now
        delta["ops"] = max(0.0, delta["ops"] - 1)  # the probe's own INFO
        return {
            **_lookups(delta["hits"], delta["misses"], per_s),
            "ops_per_s": round(delta["ops"] * per_s, RATE_DIGITS),
            "cpu": round(delta["cpu_s"] * per_s, SHARE_DIGITS),
            "evicted_keys_per_s": round(delta["evicted_keys"] * per_s, RATE_DIGITS),
            "expired_keys_per_s": round(delta["expired_keys"] * per_s, RATE_DIGITS),
            "forks": int(delta["forks"]),
            "connected_clients": max(0, f.connected_clients - 1),
            "used_memory_bytes": f.used_memory_bytes,
            "maxmemory_bytes": f.maxmemory_bytes,
            "mem_fragmentation_ratio": f.fragmentation_ratio,
            "blocked_clients": f.blocked_clients,
            "latest_fork_us": f.latest_fork_us,
            "bgsave_in_progress": int(f.rdb_bgsave_in_progress),
            "aof_rewrite_in_progress": int(f.aof_rewrite_in_progress),
        }

    def close(self) -> None:
        """Close the probe's own connection."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _info(self) -> dict[str, Any]:
        """INFO's sections; an error is an OSError, which the sampler turns into a note."""
        assert self._client is not None, "prime() connects first"
        try:
            with _translated(self.dsn, "INFO"):
                info: dict[str, Any] = self._client.info(*self._sections)
        except TargetError as exc:
            raise OSError(exc.message) from None
        return info


class MemcachedActivityProbe:
    """memcached's hits, misses, evictions, connections and memory, per sample."""

    def __init__(self, dsn: Dsn, *, connect: Callable[[Dsn], MemcacheClient] | None = None) -> None:
        self.dsn = dsn
        self.name = f"cache {dsn}"
        self._connect = connect or _connect_memcached
        self._client: MemcacheClient | None = None
        self._last: dict[str, float] = {}

    def prime(self) -> None:
        """Connect and take the counters' first reading."""
        self._client = _for_sampler(self._connect, self.dsn)
        stats = self._stats()
        self._last = _memcached_counters(stats, _memcached_figures(stats))

    def sample(self, elapsed_s: float) -> dict[str, Any] | None:
        """The figures since the last sample."""
        if self._client is None:
            return None
        stats = self._stats()
        f = _memcached_figures(stats)
        now = _memcached_counters(stats, f)
        per_s = 1.0 / elapsed_s if elapsed_s > 0 else 0.0
        delta = {k: max(0.0, now[k] - self._last.get(k, now[k])) for k in now}
        self._last = now
        return {
            **_lookups(delta["hits"], delta["misses"], per_s),
            "ops_per_s": round((delta["gets"] + delta["sets"]) * per_s, RATE_DIGITS),
            "cpu": round(delta["cpu_s"] * per_s, SHARE_DIGITS),
            "evictions_per_s": round(delta["evictions"] * per_s, RATE_DIGITS),
            "listen_disabled": int(delta["listen_disabled"]),
            "rejected_connections": int(delta["rejected_connections"]),
            "conn_yields": int(delta["conn_yields"]),
            "curr_connections": max(0, f.curr_connections - 1),
            "used_memory_bytes": f.bytes,
            "maxmemory_bytes": f.limit_maxbytes,
        }

    def close(self) -> None:
        """Close the probe's own connection."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _stats(self) -> dict[str, Any]:
        """``stats``; an error is an OSError, which the sampler turns into a note."""
        assert self._client is not None, "prime() connects first"
        from redline.probes._memcached import memcached_stats

        try:
            return memcached_stats(self._client, self.dsn)
        except TargetError as exc:
            raise OSError(exc.message) from None


class RedisWatch:
    """Redis's settings, and the slowlog entries logged during the run.

    :meth:`check` connects before the run (a refusal stops it before any load);
    the runner calls :meth:`start` and :meth:`stop` (a ``RunWatcher``). The
    watch holds no connection during the run, so the clients Redis counts are
    the service's and the probe's. What could not be read (a renamed CONFIG, a
    user without the SLOWLOG permission) is a note, not an error.

    A slowlog entry's ``second`` is the run's second it started in: Redis's
    own clock (``TIME``) is read at the start, so the entries' times line up
    with the run whatever the two machines' clocks say.
    """

    kind = "redis"

    def __init__(
        self,
        dsn: Dsn,
        *,
        clock: Clock | None = None,
        connect: Callable[[Dsn], Redis] | None = None,
    ) -> None:
        self.dsn = dsn
        self._clock = clock or MonotonicClock()
        self._connect = connect or _connect_redis
        self.server: dict[str, Any] = {}
        self.notes: list[str] = []
        self.slowlog: list[dict[str, Any]] = []
        #: Entries logged during the run (redline's own and those the slowlog no longer
        #: held included; those it held when it was empty at the start).
        self.slowlog_logged = 0
        self._last_id: int | None = None
        self._start_unix = 0.0

    def check(self) -> None:
        """Connect, read the settings and the newest slowlog entry: errors come before the load.

        Raises:
            TargetError: the cache refused the connection or the login.
        """
        with _session(self._connect, self.dsn) as client:
            with _translated(self.dsn, "INFO"):
                info = client.info()  # every section Redis gives by default: once, before the run
            self.server = self._settings(client, _redis_figures(info))
            self._last_id = self._newest_id(client)

    def start(self, start_ns: int) -> None:
        """Redis's time at the run's start and the newest slowlog entry, to count from."""
        try:
            with _session(self._connect, self.dsn) as client, _translated(self.dsn, "TIME"):
                seconds, micros = client.time()
                ahead_s = (start_ns - self._clock.now_ns()) / NS_PER_S
                self._start_unix = seconds + micros / 1e6 + ahead_s
                if self._last_id is not None:  # None: check() found the slowlog refused
                    self._last_id = self._newest_id(client)
        except TargetError as exc:
            self.notes.append(f"the run's start could not be read from Redis: {exc.message}")

    def stop(self) -> list[dict[str, Any]]:
        """The slowlog entries logged since :meth:`start`, oldest first (none on error)."""
        if self._last_id is None:
            return self.slowlog
        try:
            with _session(self._connect, self.dsn) as client, _translated(self.dsn, "SLOWLOG GET"):
                entries = _command(client, "SLOWLOG", "GET", SLOWLOG_READ)
        except TargetError as exc:
            self.notes.append(f"the slowlog could not be read at the end: {exc.message}")
            return self.slowlog
        self._keep(entries)
        return self.slowlog

    def to_dict(self) -> dict[str, Any]:
        """For the results file (``cache``): the DSN redacted, the settings, the slowlog."""
        return {
            "dsn": str(self.dsn),
            "kind": self.kind,
            "server": dict(self.server),
            "slowlog": list(self.slowlog),
            "slowlog_logged": self.slowlog_logged,
            "notes": list(self.notes),
        }

    def _settings(self, client: Redis, figures: RedisFigures) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "version": figures.version,
            "maxmemory_policy": figures.maxmemory_policy,
            "maxmemory_bytes": figures.maxmemory_bytes,
        }
        config = self._part("CONFIG GET", lambda: client.config_get("slowlog-*"))
        if config is None:
            self.notes[-1] += "; the slowlog's threshold is not known"
            return settings
        threshold = int(config.get("slowlog-log-slower-than") or -1)
        settings["slowlog_slower_than_us"] = threshold
        settings["slowlog_max_len"] = int(config.get("slowlog-max-len") or 0)
        if threshold < 0:
            self.notes.append("the slowlog is off (slowlog-log-slower-than is negative)")
        return settings

    def _newest_id(self, client: Redis) -> int | None:
        newest = self._part("SLOWLOG GET", lambda: _command(client, "SLOWLOG", "GET", 1))
        if newest is None:
            return None
        return int(newest[0][0]) if newest else -1

    def _part(self, what: str, read: Callable[[], Any]) -> Any:
        """One command whose refusal (NOPERM, renamed away) is a note, not an error."""
        from redline.probes._redis import RedisPartReader

        return RedisPartReader(self.notes, self.dsn, timeout_s=COMMAND_TIMEOUT_S)(what, read)

    def _keep(self, entries: list[Any]) -> None:
        assert self._last_id is not None
        newer = [e for e in entries if int(e[0]) > self._last_id]
        if not newer:
            return
        self._count_logged(entries, newer)
        ours = _redline_addresses(newer)
        for entry in reversed(newer):  # SLOWLOG GET is newest first
            words = [str(w) for w in entry[3]]
            if not words or (len(entry) > 4 and str(entry[4]) in ours):
                continue  # redline's own commands (its login among them)
            self.slowlog.append(
                {
                    "id": int(entry[0]),
                    # Logged in whole seconds: the middle of its second is the best guess.
                    "second": max(0, int(int(entry[1]) + 0.5 - self._start_unix)),
                    "duration_us": int(entry[2]),
                    "command": words[0].upper(),
                    "text": _command_text(words),
                }
            )

    def _count_logged(self, entries: list[Any], newer: list[Any]) -> None:
        """How many entries the run logged, and a note when the slowlog lost some.

        Ids count every entry a Redis process logs (SLOWLOG RESET empties the log, not
        the count), so from a known newest id at the start the count is exact. From an
        empty slowlog it is not known: a slowlog full at the end may have lost some.
        """
        held = len(newer)
        if self._last_id is not None and self._last_id >= 0:
            self.slowlog_logged = int(newer[0][0]) - self._last_id
            if held < self.slowlog_logged:
                self.notes.append(
                    f"{self.slowlog_logged} slow commands were logged during the run; "
                    f"the slowlog held the last {held} (slowlog-max-len)"
                )
            return
        self.slowlog_logged = held
        max_len = int(self.server.get("slowlog_max_len") or 0)
        if max_len and len(entries) >= max_len:
            self.notes.append(
                f"the slowlog was full at the end of the run ({held} entries, slowlog-max-len "
                f"{max_len}): earlier slow commands of the run may be missing"
            )


class MemcachedWatch:
    """memcached's settings (connection and memory limits); :meth:`check` connects first."""

    kind = "memcached"

    def __init__(self, dsn: Dsn, *, connect: Callable[[Dsn], MemcacheClient] | None = None) -> None:
        self.dsn = dsn
        self._connect = connect or _connect_memcached
        self.server: dict[str, Any] = {}
        self.notes: list[str] = []

    def check(self) -> None:
        """Connect and read the settings: errors come before the load.

        Raises:
            TargetError: memcached refused the connection.
        """
        from redline.probes._memcached import memcached_figures, memcached_stats

        client = self._connect(self.dsn)
        try:
            stats = memcached_stats(client, self.dsn)
            settings = memcached_stats(client, self.dsn, "settings")
        finally:
            client.close()
        figures = memcached_figures(stats, settings)
        self.server = {
            "version": figures.version,
            "maxconns": figures.max_connections,
            "maxmemory_bytes": figures.limit_maxbytes,
        }

    def start(self, start_ns: int) -> None:
        """Nothing to read at the start: the probe has the counters."""

    def stop(self) -> None:
        """Nothing to read at the end."""

    def to_dict(self) -> dict[str, Any]:
        """For the results file (``cache``): the DSN and the settings."""
        return {
            "dsn": str(self.dsn),
            "kind": self.kind,
            "server": dict(self.server),
            "notes": list(self.notes),
        }


#: The probes ``redline run --cache DSN`` uses, by the DSN's scheme: the watch and the probe.
CACHE_SCHEMES: Final[dict[str, tuple[Callable[[Dsn], Any], Callable[[Dsn], Any]]]] = {
    "redis": (RedisWatch, RedisActivityProbe),
    "memcached": (MemcachedWatch, MemcachedActivityProbe),
}


def cache_watch(dsn: Dsn) -> RedisWatch | MemcachedWatch:
    """The run watcher for the cache at ``dsn`` (call its ``check()`` before the load)."""
    watch: RedisWatch | MemcachedWatch = CACHE_SCHEMES[dsn.scheme][0](dsn)
    return watch


def cache_activity_probe(dsn: Dsn) -> RedisActivityProbe | MemcachedActivityProbe:
    """The resource probe for the cache at ``dsn``."""
    probe: RedisActivityProbe | MemcachedActivityProbe = CACHE_SCHEMES[dsn.scheme][1](dsn)
    return probe


def _connect_redis(dsn: Dsn) -> Redis:
    """The adapter's connection (redis-py loads now): one connection, the run's timeout.

    Raises:
        TargetError: refused, timed out, or the login failed; never shows the password.
    """
    from redline.probes._redis import connect_redis

    return connect_redis(dsn, timeout_s=COMMAND_TIMEOUT_S, single_connection=True)


@contextmanager
def _translated(dsn: Dsn, what: str) -> Iterator[None]:
    """redis-py's errors in ``what`` as :class:`TargetError` s (the adapter's translation)."""
    from redline.probes._redis import translate_errors

    with translate_errors(dsn, what, timeout_s=COMMAND_TIMEOUT_S):
        yield


def _redis_figures(info: Mapping[str, Any]) -> RedisFigures:
    from redline.probes._redis import redis_figures

    return redis_figures(info)


@contextmanager
def _session(connect: Callable[[Dsn], Redis], dsn: Dsn) -> Iterator[Redis]:
    """A connection for a few commands, then closed."""
    client = connect(dsn)
    try:
        yield client
    finally:
        client.close()


def _command(client: Redis, *args: str | int) -> Any:
    """A raw command's reply (redis-py's ``execute_command`` has no type hints)."""
    return cast(Any, client).execute_command(*args)


def _connect_memcached(dsn: Dsn) -> MemcacheClient:
    """The adapter's connection (pymemcache loads now), with the run's timeout.

    Raises:
        TargetError: refused or timed out.
    """
    from redline.probes._memcached import connect_memcached

    return connect_memcached(dsn, timeout_s=COMMAND_TIMEOUT_S)


def _memcached_figures(stats: Mapping[str, Any]) -> MemcachedFigures:
    from redline.probes._memcached import memcached_figures

    return memcached_figures(stats)


def _for_sampler(connect: Callable[[Dsn], _Client], dsn: Dsn) -> _Client:
    """Connect for a probe: a refusal is an OSError, which the sampler turns into a note."""
    try:
        return connect(dsn)
    except TargetError as exc:
        raise OSError(exc.message) from None


def _lookups(hits: float, misses: float, per_s: float) -> dict[str, Any]:
    lookups = hits + misses
    return {
        "hits_per_s": round(hits * per_s, RATE_DIGITS),
        "misses_per_s": round(misses * per_s, RATE_DIGITS),
        "lookups_per_s": round(lookups * per_s, RATE_DIGITS),
        "hit_ratio": round(hits / lookups, SHARE_DIGITS) if lookups else None,
    }


def _redis_counters(info: Mapping[str, Any], f: RedisFigures) -> dict[str, float]:
    """The counters a sample reads as rates: the analysis's figures, and the commands."""
    return {
        "hits": f.keyspace_hits,
        "misses": f.keyspace_misses,
        "evicted_keys": f.evicted_keys,
        "expired_keys": f.expired_keys,
        "forks": f.total_forks,
        "cpu_s": f.cpu_sys_s + f.cpu_user_s,
        # Not among the analysis's figures (it shows instantaneous_ops_per_sec).
        "ops": float(info.get("total_commands_processed") or 0),
    }


def _memcached_counters(stats: Mapping[str, Any], f: MemcachedFigures) -> dict[str, float]:
    """The counters a sample reads as rates: the analysis's figures, and the CPU."""
    return {
        "hits": f.get_hits,
        "misses": f.get_misses,
        "evictions": f.evictions,
        "gets": f.cmd_get,
        "sets": f.cmd_set,
        "listen_disabled": f.listen_disabled_num,
        "rejected_connections": f.rejected_connections,
        "conn_yields": f.conn_yields,
        # Not among the analysis's figures: the seconds of CPU memcached used.
        "cpu_s": float(stats.get("rusage_user") or 0) + float(stats.get("rusage_system") or 0),
    }


def _redline_addresses(entries: list[Any]) -> set[str]:
    """The client addresses of redline's connections (named ``redline`` once logged in)."""
    return {str(e[4]) for e in entries if len(e) > 5 and str(e[5]) == CLIENT_NAME}


def _command_text(words: list[str]) -> str:
    kept = [one_line(w, SLOW_COMMAND_WORD_CHARS) for w in words[:SLOW_COMMAND_WORDS]]
    more = len(words) - SLOW_COMMAND_WORDS
    return " ".join(kept) + (f" … ({more} more arguments)" if more > 0 else "")
