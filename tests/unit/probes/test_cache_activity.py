"""The cache probes and watches of ``run --cache``, on fake clients (no sockets)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import redis

from redline.clock import NS_PER_S, FakeClock
from redline.errors import ConfigError, TargetError
from redline.plan import parse_dsn
from redline.probes import (
    CACHE_SCHEMES,
    MemcachedActivityProbe,
    MemcachedWatch,
    RedisActivityProbe,
    RedisWatch,
    cache_activity_probe,
    cache_watch,
)
from redline.probes._memcached import memcached_stats
from redline.probes._redis import translate_errors

DSN = parse_dsn("redis://:s3cret-pw@127.0.0.1:6379", schemes=("redis",))
MEMCACHED_DSN = parse_dsn("memcached://127.0.0.1:11211", schemes=("memcached",))


def info(**figures: Any) -> dict[str, Any]:
    base = {
        "keyspace_hits": 0, "keyspace_misses": 0, "evicted_keys": 0, "expired_keys": 0,
        "total_commands_processed": 0, "total_forks": 0, "used_cpu_user": 0.0,
        "used_cpu_sys": 0.0, "used_memory": 1_000_000, "maxmemory": 0,
        "mem_fragmentation_ratio": 1.2, "connected_clients": 3, "blocked_clients": 0,
        "latest_fork_usec": 0, "rdb_bgsave_in_progress": 0, "aof_rewrite_in_progress": 0,
        "redis_version": "7.0.15", "maxmemory_policy": "allkeys-lru",
    }  # fmt: skip
    return {**base, **figures}


class FakeRedis:
    """Answers INFO from a list of readings, and SLOWLOG, CONFIG GET and TIME as told."""

    def __init__(self, infos: list[dict[str, Any]] | None = None, *,
                 slowlog: list[list[Any]] | None = None, config: Any = None) -> None:  # fmt: skip
        self.infos = list(infos or [info()])
        self.slowlog = slowlog or []
        self.config = config if config is not None else {
            "slowlog-log-slower-than": "10000", "slowlog-max-len": "128"}  # fmt: skip
        self.closed = False
        self.sections: list[tuple[str, ...]] = []

    def info(self, *sections: str) -> dict[str, Any]:
        self.sections.append(sections)
        reading = self.infos.pop(0) if len(self.infos) > 1 else self.infos[0]
        if isinstance(reading, Exception):
            raise reading
        return reading

    def time(self) -> tuple[int, int]:
        return 1000, 250_000

    def config_get(self, pattern: str) -> dict[str, str]:
        if isinstance(self.config, Exception):
            raise self.config
        return dict(self.config)

    def execute_command(self, *args: Any) -> Any:
        assert args[:2] == ("SLOWLOG", "GET")
        if isinstance(self.slowlog, Exception):
            raise self.slowlog
        return self.slowlog[: args[2]]

    def close(self) -> None:
        self.closed = True


def connecting(*clients: Any) -> Any:
    """A ``connect`` that hands out ``clients`` in turn (an exception is raised)."""
    queue = list(clients)

    def connect(dsn: Any) -> Any:
        client = queue.pop(0)
        if isinstance(client, Exception):
            raise client
        return client

    return connect


def test_redis_sample_rates_ratio_and_cpu() -> None:
    first = info(keyspace_hits=100, keyspace_misses=100, total_commands_processed=1000,
                 used_cpu_user=1.0, used_cpu_sys=0.5)  # fmt: skip
    second = info(keyspace_hits=1700, keyspace_misses=500, total_commands_processed=5001,
                  used_cpu_user=1.6, used_cpu_sys=0.7, evicted_keys=40, expired_keys=10,
                  total_forks=1, latest_fork_usec=1234, connected_clients=5)  # fmt: skip
    client = FakeRedis([first, second])
    probe = RedisActivityProbe(DSN, connect=connecting(client))
    probe.prime()
    sample = probe.sample(2.0)
    assert sample == {
        "hits_per_s": 800.0, "misses_per_s": 200.0, "lookups_per_s": 1000.0, "hit_ratio": 0.8,
        "ops_per_s": 2000.0,  # 4,001 commands, less the probe's own INFO
        "cpu": 0.4, "evicted_keys_per_s": 20.0, "expired_keys_per_s": 5.0, "forks": 1,
        "connected_clients": 4,  # the probe's own connection left out
        "used_memory_bytes": 1_000_000, "maxmemory_bytes": 0, "mem_fragmentation_ratio": 1.2,
        "blocked_clients": 0, "latest_fork_us": 1234, "bgsave_in_progress": 0,
        "aof_rewrite_in_progress": 0,
    }  # fmt: skip
    assert client.sections[0] == ("stats", "memory", "cpu", "clients", "persistence")
    probe.close()
    assert client.closed and probe.sample(1.0) is None


def test_counters_that_go_back_give_zero_not_negative_rates() -> None:
    client = FakeRedis([info(keyspace_hits=500), info(keyspace_hits=10)])  # CONFIG RESETSTAT
    probe = RedisActivityProbe(DSN, connect=connecting(client))
    probe.prime()
    sample = probe.sample(1.0)
    assert sample is not None
    assert sample["hits_per_s"] == 0.0 and sample["hit_ratio"] is None


def test_a_redis_before_7_is_read_with_one_info() -> None:
    client = FakeRedis([redis.ResponseError("syntax error"), info(), info()])
    probe = RedisActivityProbe(DSN, connect=connecting(client))
    probe.prime()
    probe.sample(1.0)
    assert client.sections == [
        ("stats", "memory", "cpu", "clients", "persistence"), (), ()
    ]  # fmt: skip


def test_a_redis_that_stops_answering_is_an_oserror_for_the_sampler() -> None:
    client = FakeRedis([info(), redis.ConnectionError("Connection reset by peer")])
    probe = RedisActivityProbe(DSN, connect=connecting(client))
    probe.prime()
    with pytest.raises(OSError) as stopped:
        probe.sample(1.0)
    assert str(stopped.value) == (
        "could not read INFO from Redis at redis://127.0.0.1:6379: Connection reset by peer"
    )


def test_a_redis_that_refuses_info_at_prime_is_an_oserror_for_the_sampler() -> None:
    client = FakeRedis([redis.ResponseError("NOPERM this user has no permissions to run 'info'")])
    probe = RedisActivityProbe(DSN, connect=connecting(client))
    with pytest.raises(OSError, match=r"^the user may not run INFO \(NOPERM\)$"):
        probe.prime()


def test_a_refusal_at_prime_is_an_oserror_for_the_sampler() -> None:
    refused = TargetError("Redis at 127.0.0.1:6379 refused the connection")
    probe = RedisActivityProbe(DSN, connect=connecting(refused))
    with pytest.raises(OSError, match="refused the connection"):
        probe.prime()


def entry(number: int, at: int, duration_us: int, *words: str, address: str = "10.0.0.5:4000",
          name: str = "") -> list[Any]:  # fmt: skip
    return [number, at, duration_us, list(words), address, name]


def watch_with(*clients: Any) -> tuple[RedisWatch, FakeClock]:
    clock = FakeClock(start_ns=5 * NS_PER_S)
    return RedisWatch(DSN, clock=clock, connect=connecting(*clients)), clock


def test_the_watch_keeps_the_slowlog_entries_of_the_run_only() -> None:
    before = FakeRedis(slowlog=[entry(7, 990, 20_000, "KEYS", "*")])
    at_end = FakeRedis(slowlog=[  # newest first, as SLOWLOG GET answers
        entry(11, 1004, 9, "SLOWLOG", "GET", "1", address="127.0.0.1:9", name="redline"),
        entry(10, 1004, 5, "HELLO", "3", "AUTH", "(redacted)", address="127.0.0.1:9"),
        entry(9, 1003, 45_000, "LRANGE", "timeline", "0", "-1", "x" * 100, "y"),
        entry(8, 1001, 30_000, "KEYS", "user:*"),
        entry(7, 990, 20_000, "KEYS", "*"),
    ])  # fmt: skip
    watch, clock = watch_with(before, before, at_end)
    watch.check()
    assert watch.server == {
        "version": "7.0.15", "maxmemory_policy": "allkeys-lru", "maxmemory_bytes": 0,
        "slowlog_slower_than_us": 10000, "slowlog_max_len": 128,
    }  # fmt: skip
    watch.start(clock.now_ns() + NS_PER_S // 5)  # the run starts 0.2 s after: at 1000.45
    kept = watch.stop()
    # Logged at whole seconds: 1001 is taken as 1001.5, second 1 of a run from 1000.45.
    assert [(e["id"], e["second"], e["command"]) for e in kept] == [(8, 1, "KEYS"),
                                                                    (9, 3, "LRANGE")]  # fmt: skip
    assert kept[1]["text"] == "LRANGE timeline 0 -1 … (2 more arguments)"
    assert kept[1]["duration_us"] == 45_000
    assert watch.slowlog_logged == 4 and watch.notes == []
    assert before.closed and at_end.closed  # no connection held during the run
    assert watch.to_dict()["dsn"] == "redis://127.0.0.1:6379"  # no password: no user either


def test_a_slowlog_that_overflowed_says_so() -> None:
    before = FakeRedis(slowlog=[entry(100, 990, 1, "GET", "a")])
    at_end = FakeRedis(slowlog=[entry(n, 1001, 20_000, "GET", "a") for n in range(400, 272, -1)])
    watch, clock = watch_with(before, before, at_end)
    watch.check()
    watch.start(clock.now_ns())
    assert len(watch.stop()) == 128
    assert watch.notes == [
        "300 slow commands were logged during the run; the slowlog held the last 128 "
        "(slowlog-max-len)"
    ]


def test_from_an_emptied_slowlog_the_ids_do_not_count_the_run() -> None:
    """SLOWLOG RESET empties the log but its ids go on: 3,000 is not the run's count."""
    emptied = FakeRedis(slowlog=[])
    at_end = FakeRedis(slowlog=[entry(n, 1001, 20_000, "GET", "a") for n in range(3010, 3000, -1)])
    watch, clock = watch_with(emptied, emptied, at_end)
    watch.check()
    watch.start(clock.now_ns())
    assert len(watch.stop()) == 10
    assert watch.slowlog_logged == 10 and watch.notes == []


def test_an_emptied_slowlog_full_at_the_end_may_have_lost_some() -> None:
    emptied = FakeRedis(slowlog=[], config={"slowlog-log-slower-than": "0",
                                            "slowlog-max-len": "8"})  # fmt: skip
    at_end = FakeRedis(slowlog=[entry(n, 1001, 20_000, "GET", "a") for n in range(50, 42, -1)])
    watch, clock = watch_with(emptied, emptied, at_end)
    watch.check()
    watch.start(clock.now_ns())
    assert len(watch.stop()) == 8
    assert watch.notes == [
        "the slowlog was full at the end of the run (8 entries, slowlog-max-len 8): "
        "earlier slow commands of the run may be missing"
    ]


def test_refused_config_and_slowlog_are_notes_not_errors() -> None:
    refused = redis.ResponseError("NOPERM this user has no permissions to run the 'config|get'")
    client = FakeRedis(config=refused, slowlog=redis.ResponseError("NOPERM slowlog"))
    watch, clock = watch_with(client, client)
    watch.check()
    watch.start(clock.now_ns())
    assert watch.stop() == []
    assert len(watch.notes) == 2  # the refused SLOWLOG once, not again at the start
    assert watch.notes[0] == (
        "CONFIG GET: the user may not run CONFIG (NOPERM) (grant it: ACL SETUSER default "
        "+config); the slowlog's threshold is not known"
    )
    assert watch.notes[1] == (
        "SLOWLOG GET: the user may not run SLOWLOG (NOPERM) (grant it: ACL SETUSER default "
        "+slowlog)"
    )


def test_a_refused_info_at_check_is_raised_before_the_load() -> None:
    client = FakeRedis([redis.ConnectionError("Connection closed by server.")])
    watch, _ = watch_with(client)
    with pytest.raises(TargetError, match=r"^could not read INFO from Redis at redis://127\.0\."):
        watch.check()
    assert client.closed


def test_a_slowlog_turned_off_is_a_note() -> None:
    client = FakeRedis(config={"slowlog-log-slower-than": "-1", "slowlog-max-len": "128"})
    watch, _ = watch_with(client)
    watch.check()
    assert watch.notes == ["the slowlog is off (slowlog-log-slower-than is negative)"]


def test_a_redis_gone_at_the_end_leaves_a_note() -> None:
    gone = TargetError("Redis at 127.0.0.1:6379 refused the connection")
    watch, clock = watch_with(FakeRedis(), FakeRedis(), gone)
    watch.check()
    watch.start(clock.now_ns())
    assert watch.stop() == []
    assert watch.notes == [
        "the slowlog could not be read at the end: Redis at 127.0.0.1:6379 refused the connection"
    ]


def test_a_refusal_at_check_is_raised_before_the_load() -> None:
    refused = TargetError("Redis at 127.0.0.1:6379 refused the login")
    watch, _ = watch_with(refused)
    with pytest.raises(TargetError, match="refused the login"):
        watch.check()


def translated(error: Exception, dsn: Any = DSN, what: str = "connect") -> TargetError:
    with pytest.raises(TargetError) as raised, translate_errors(dsn, what, timeout_s=3.0):
        raise error
    return raised.value


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            redis.AuthenticationError("invalid username-password pair"),
            "Redis at redis://127.0.0.1:6379 refused the login: wrong password or user (WRONGPASS)",
        ),
        (
            redis.TimeoutError("Timeout connecting"),
            "Redis at redis://127.0.0.1:6379 did not answer within 3 s (connect)",
        ),
        (
            redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
            "Redis at redis://127.0.0.1:6379 refused the connection",
        ),
        (
            redis.ConnectionError("Error -2 connecting to nohost:6379. Name does not resolve."),
            "could not connect to Redis at redis://127.0.0.1:6379: Name does not resolve.",
        ),
        (
            redis.ResponseError("ERR s3cret-pw is not a valid"),
            "Redis at redis://127.0.0.1:6379: ERR *** is not a valid (connect)",
        ),
    ],
)
def test_redis_errors_are_one_line_without_the_password(error: Exception, message: str) -> None:
    error_seen = translated(error)
    assert error_seen.message == message
    assert error_seen.hint
    assert "\n" not in error_seen.message
    assert "s3cret-pw" not in error_seen.message + error_seen.hint


def test_a_redis_without_the_password_the_dsn_lacks() -> None:
    no_password = parse_dsn("redis://127.0.0.1:6379", schemes=("redis",))
    error = redis.AuthenticationError("NOAUTH Authentication required.")
    error_seen = translated(error, no_password)
    assert error_seen.message == (
        "Redis at redis://127.0.0.1:6379 requires a password and the DSN has none (NOAUTH)"
    )
    assert error_seen.hint == "give it in the DSN: redis://[user]:PASSWORD@host:port"


class FakeMemcache:
    server = ("127.0.0.1", 11211)
    timeout = 3.0

    def __init__(self, *readings: Any) -> None:
        self.readings = list(readings)
        self.closed = False

    def stats(self, *args: str) -> dict[bytes, Any]:
        if args == ("settings",):
            return {b"maxconns": 1024}
        reading = self.readings.pop(0) if len(self.readings) > 1 else self.readings[0]
        if isinstance(reading, Exception):
            raise reading
        return reading

    def close(self) -> None:
        self.closed = True


def stats(**figures: Any) -> dict[bytes, Any]:
    base = {"get_hits": 0, "get_misses": 0, "evictions": 0, "cmd_get": 0, "cmd_set": 0,
            "listen_disabled_num": 0, "rejected_connections": 0, "conn_yields": 0,
            "rusage_user": 0.0, "rusage_system": 0.0, "curr_connections": 2, "bytes": 1000,
            "limit_maxbytes": 67_108_864, "version": b"1.6.18"}  # fmt: skip
    return {k.encode(): v for k, v in {**base, **figures}.items()}


def test_memcached_sample() -> None:
    client = FakeMemcache(
        stats(),
        stats(get_hits=90, get_misses=10, evictions=4, cmd_get=100, cmd_set=10,
              listen_disabled_num=2, rejected_connections=5, conn_yields=1, rusage_user=0.1,
              curr_connections=30),
    )  # fmt: skip
    probe = MemcachedActivityProbe(MEMCACHED_DSN, connect=connecting(client))
    probe.prime()
    assert probe.sample(1.0) == {
        "hits_per_s": 90.0, "misses_per_s": 10.0, "lookups_per_s": 100.0, "hit_ratio": 0.9,
        "ops_per_s": 110.0, "cpu": 0.1, "evictions_per_s": 4.0, "listen_disabled": 2,
        "rejected_connections": 5, "conn_yields": 1, "curr_connections": 29,
        "used_memory_bytes": 1000, "maxmemory_bytes": 67_108_864,
    }  # fmt: skip
    probe.close()
    assert client.closed


def test_memcached_that_stops_answering_is_an_oserror_for_the_sampler() -> None:
    client = FakeMemcache(stats(), ConnectionResetError(104, "Connection reset by peer"))
    probe = MemcachedActivityProbe(MEMCACHED_DSN, connect=connecting(client))
    probe.prime()
    with pytest.raises(OSError) as stopped:
        probe.sample(1.0)
    assert str(stopped.value) == (
        "could not read stats from memcached at memcached://127.0.0.1:11211: "
        "Connection reset by peer"
    )


def test_memcached_watch_reads_the_limits() -> None:
    client = FakeMemcache(stats())
    watch = MemcachedWatch(MEMCACHED_DSN, connect=connecting(client))
    watch.check()
    assert watch.to_dict() == {
        "dsn": "memcached://127.0.0.1:11211", "kind": "memcached",
        "server": {"version": "1.6.18", "maxconns": 1024, "maxmemory_bytes": 67_108_864},
        "notes": [],
    }  # fmt: skip
    assert client.closed


def test_memcached_refusal_is_one_line() -> None:
    client = FakeMemcache(ConnectionRefusedError(111, "Connection refused"))
    with pytest.raises(TargetError) as refused:
        memcached_stats(client, MEMCACHED_DSN)
    assert refused.value.message == (
        "memcached at memcached://127.0.0.1:11211 refused the connection"
    )
    assert refused.value.hint == (
        "check that memcached runs and listens on this host and port (-l, -p)"
    )


def test_memcached_timeout_names_the_client_timeout() -> None:
    client = FakeMemcache(TimeoutError("timed out"))
    with pytest.raises(TargetError, match=r"did not answer within 3 s \(stats\)$"):
        memcached_stats(client, MEMCACHED_DSN)


def test_the_scheme_picks_the_probes() -> None:
    assert set(CACHE_SCHEMES) == {"redis", "memcached"}
    assert isinstance(cache_watch(DSN), RedisWatch)
    assert isinstance(cache_activity_probe(MEMCACHED_DSN), MemcachedActivityProbe)
    with pytest.raises(ConfigError, match="^--cache: not a connection string of a supported"):
        parse_dsn("mongodb://127.0.0.1/db", field="--cache", schemes=tuple(CACHE_SCHEMES))


def test_redline_starts_without_importing_the_cache_drivers() -> None:
    """The probes import the adapters (and redis-py, pymemcache) only when a cache is asked for."""
    code = (
        "import sys, redline.cli, redline.probes; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('redis', 'pymemcache') "
        "or m in ('redline.probes._redis', 'redline.probes._memcached')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
