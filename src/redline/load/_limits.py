"""Process limits that decide how many connections a worker can hold."""

from __future__ import annotations

import ipaddress
import resource

from redline.errors import ConfigError

__all__ = ["LOOPBACK_SPREAD_MIN_CONNECTIONS", "loopback_sources", "raise_open_files_limit"]

#: Descriptors a worker needs besides its connections (pipes, logs, the loop).
SPARE_DESCRIPTORS = 64
#: From this many connections per worker, spread source addresses over
#: 127.0.0.0/8: one source address has only ~28,000 ephemeral ports.
LOOPBACK_SPREAD_MIN_CONNECTIONS = 10_000
#: How many loopback source addresses to use when spreading.
LOOPBACK_SOURCES = 200


def raise_open_files_limit(connections: int) -> int:
    """Raise RLIMIT_NOFILE so ``connections`` sockets fit, and return the new soft limit.

    The soft limit goes up to the hard limit; when that is too low too, the
    hard limit is raised if the process may (root), else a ConfigError says
    what to run.
    """
    needed = connections + SPARE_DESCRIPTORS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if needed <= soft:
        return soft
    if needed > hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
            return needed
        except (ValueError, OSError):
            raise ConfigError(
                f"open files: {needed} descriptors are needed for {connections} connections "
                f"but the hard limit is {hard}",
                hint=f"raise it (ulimit -Hn {needed}, or LimitNOFILE= for a service), "
                "or spread the VUs over more --workers: each worker process has its own limit",
            ) from None
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def loopback_sources(host: str, connections: int, *, worker: int = 0) -> tuple[str, ...]:
    """Source addresses to spread ``connections`` over, or () when not needed.

    Args:
        host: the target's address.
        connections: how many connections the whole run holds (all workers).
        worker: this worker's index; each worker gets addresses of its own,
            ``127.<worker + 1>.x.y``, since a port bound on one address by one
            worker cannot be bound on it by another.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ()
    if address.version != 4 or not address.is_loopback:
        return ()
    if connections < LOOPBACK_SPREAD_MIN_CONNECTIONS:
        return ()
    second = worker % 254 + 1
    return tuple(f"127.{second}.{i // 250}.{i % 250 + 1}" for i in range(LOOPBACK_SOURCES))
