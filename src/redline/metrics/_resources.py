"""The resource sampler: asks each probe for its figures once a second during a run.

Sample ``k`` covers second ``k`` of the run: the sampler primes every probe at
the run's synchronized start and samples at ``start + (k + 1) * interval``,
scheduled by absolute time so a slow sample never shifts the next. A probe
whose source goes away (the server process exits) is dropped with a note; what
it sampled before is kept.

This module knows nothing of ``/proc``: probes are anything with ``name``,
``prime()`` and ``sample(elapsed_s)`` (see :class:`ResourceProbe`), and the
run's fixed host figures come from a function the caller passes
(``redline.probes.host_info``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from redline.clock import NS_PER_S, Clock, MonotonicClock

__all__ = ["ResourceProbe", "ResourceSampler", "ResourceSamples"]

#: The sources every results file has (empty lists when not sampled).
SOURCES = ("host", "server")
#: The sampling period when none is given.
DEFAULT_INTERVAL_S = 1.0
#: At stop, a last partial interval shorter than this share of one is dropped.
MIN_LAST_SHARE = 0.5


class ResourceProbe(Protocol):
    """A source of resource figures (host, process tree)."""

    #: How notes name the source, e.g. "server process 1234".
    name: str

    def prime(self) -> None:
        """Take the first reading; the next sample covers the time from here."""
        ...

    def sample(self, elapsed_s: float) -> Mapping[str, Any] | None:
        """The figures since the previous sample; None once the source has gone."""
        ...


@dataclass
class ResourceSamples:
    """Per-second resource figures of a run, by source ("host", "server"), and notes.

    Each sample is a dict with ``second`` (the run's second it covers),
    ``duration_s`` and the probe's figures. ``host_info`` is the machine's
    fixed figures, taken once when sampling starts (empty when not taken, and
    in results written before it existed).
    """

    interval_s: float = DEFAULT_INTERVAL_S
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: The sampled server's process id, when one was sampled.
    server_pid: int | None = None
    host_info: dict[str, Any] = field(default_factory=dict)

    def of(self, source: str) -> list[dict[str, Any]]:
        """The samples of one source, in order (empty when it was not sampled)."""
        return self.samples.get(source, [])

    def to_dict(self) -> dict[str, Any]:
        """For a results file."""
        return {
            "interval_s": self.interval_s,
            "server_pid": self.server_pid,
            "host_info": dict(self.host_info),
            "host": self.of("host"),
            "server": self.of("server"),
            # Other sources (a database with --db) only when sampled.
            **{k: v for k, v in self.samples.items() if k not in SOURCES},
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceSamples:
        """Read what :meth:`to_dict` wrote."""
        return cls(
            interval_s=float(data.get("interval_s", DEFAULT_INTERVAL_S)),
            samples={k: list(data.get(k) or []) for k in (*SOURCES, *_others(data))},
            notes=[str(n) for n in data.get("notes") or []],
            server_pid=data.get("server_pid"),
            host_info=dict(data.get("host_info") or {}),
        )


def _others(data: Mapping[str, Any]) -> list[str]:
    """Sources beyond host and server in a results file: lists of samples under other keys."""
    fixed = {"interval_s", "server_pid", "host_info", "notes", *SOURCES}
    return [k for k, v in data.items() if k not in fixed and isinstance(v, list)]


class ResourceSampler:
    """Samples probes every ``interval_s`` in a thread, from :meth:`start` to :meth:`stop`.

    The constructor starts nothing. :meth:`sample_once` is the manual step
    (tests, benchmarks). ``host_info`` is called once, when the probes are
    primed: by then the run has raised its open-files limit, which it reports.

    Example::

        sampler = ResourceSampler(
            {"host": HostProbe(), "server": ProcessTreeProbe(pid)}, host_info=host_info
        )
        sampler.start(start_ns)
        ...
        samples = sampler.stop()
    """

    def __init__(
        self,
        probes: Mapping[str, ResourceProbe],
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        clock: Clock | None = None,
        server_pid: int | None = None,
        host_info: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s!r}")
        self._probes = dict(probes)
        self._all_probes = dict(probes)
        self._host_info = host_info
        self._clock = clock or MonotonicClock()
        self._interval_ns = int(interval_s * NS_PER_S)
        self._result = ResourceSamples(interval_s, {n: [] for n in probes}, [], server_pid)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_ns = 0
        self._last_ns = 0
        self._next_second = 0
        self._lock = threading.Lock()

    @property
    def server_pid(self) -> int | None:
        """The sampled server's process id, when a server is sampled."""
        return self._result.server_pid

    def probe(self, name: str) -> ResourceProbe | None:
        """The probe named ``name`` (also after it was dropped), for what it keeps besides
        its samples; None when there is none."""
        return self._all_probes.get(name)

    def start(self, start_ns: int) -> None:
        """Sample from ``start_ns`` (the run's synchronized start) in a background thread."""
        self._start_ns = start_ns
        self._thread = threading.Thread(target=self._loop, name="redline-resources", daemon=True)
        self._thread.start()

    def stop(self) -> ResourceSamples:
        """Stop sampling (a last partial second is kept if it is long enough); the samples."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            with self._lock:
                now = self._clock.now_ns()
                if self._last_ns and now - self._last_ns >= MIN_LAST_SHARE * self._interval_ns:
                    self._sample_at(now)
        for probe in self._all_probes.values():
            close = getattr(probe, "close", None)
            if close is not None:
                close()  # a probe with a connection of its own (a database)
        return self._result

    def prime(self, now_ns: int) -> None:
        """Take every probe's first reading (and the host's fixed figures) at ``now_ns``."""
        self._last_ns = now_ns
        if self._host_info is not None:
            self._result.host_info = dict(self._host_info())
        for name, probe in list(self._probes.items()):
            self._guard(name, probe.prime)

    def sample_once(self, now_ns: int) -> None:
        """Sample every probe for the next second, as of ``now_ns``."""
        with self._lock:
            self._sample_at(now_ns)

    def _loop(self) -> None:
        if self._wait_until(self._start_ns):
            return
        with self._lock:
            self.prime(self._clock.now_ns())
        while not self._wait_until(self._start_ns + (self._next_second + 1) * self._interval_ns):
            self.sample_once(self._clock.now_ns())

    def _wait_until(self, deadline_ns: int) -> bool:
        """Sleep until ``deadline_ns``; True when stopped meanwhile."""
        delay_ns = deadline_ns - self._clock.now_ns()
        return self._stop.wait(max(0, delay_ns) / NS_PER_S)

    def _sample_at(self, now_ns: int) -> None:
        second = self._next_second
        elapsed_s = (now_ns - self._last_ns) / NS_PER_S
        for name, probe in list(self._probes.items()):
            figures = self._guard(name, lambda p=probe: p.sample(elapsed_s))
            if figures is None:
                if name in self._probes:
                    del self._probes[name]
                    self._result.notes.append(f"{probe.name} exited at {second} s")
                continue
            sample = {"second": second, "duration_s": round(elapsed_s, 3), **figures}
            self._result.samples[name].append(sample)
        self._last_ns = now_ns
        self._next_second += 1

    def _guard(self, name: str, call: Any) -> Any:
        """Run a probe call; a probe that cannot read its source is dropped with a note."""
        try:
            return call()
        except OSError as exc:
            probe = self._probes.pop(name)
            self._result.notes.append(
                f"{probe.name} sampling stopped at {self._next_second} s: {exc}"
            )
            return None
