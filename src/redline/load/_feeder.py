"""Feeders: a worker's rows of test data, handed out one per iteration as variables.

Every VU of a worker shares the worker's feeders. Before each iteration the VU
asks each one to ``fill`` its variables (``users.id``, ``users.email``, ...);
a feeder that has no row left answers False, and the iteration does not start.

Modes (:class:`~redline.plan.FeederMode`), per worker:

- ``sequential``: rows in file order; every worker reads the whole file.
- ``circular``: the same, starting over after the last row; never runs out.
- ``random``: a row drawn at random, seeded per worker; never runs out.
- ``unique``: worker i of W keeps rows i, i+W, i+2W, ... (:func:`partition`) and
  hands each out once. No row is used twice in the run, with no locking between
  processes; but one worker may run out while others still have rows.

When a ``sequential`` or ``unique`` feeder runs out, ``on_exhausted`` decides:
``recycle`` starts over; ``stop`` refuses the iteration (the VU goes idle and
:class:`FeederEnd` ends the worker's load once every VU is idle); ``fail`` makes
:class:`FeederEnd` end the run with an error naming the feeder.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from redline.clock import Clock
from redline.load._executor import Executor
from redline.load._generate import RunId, build_generator
from redline.plan import DataRows, FeederConfig, FeederMode, OnExhausted, Plan, read_rows
from redline.plan._problem import Problem

__all__ = [
    "ExhaustionEvents",
    "Feeder",
    "FeederEnd",
    "RandomFeeder",
    "RowFeeder",
    "build_feeder",
    "build_feeders",
    "partition",
    "variables_of",
]

T = TypeVar("T")
#: One row as variables: ``{"users.id": b"17", "users.email": b"a@b.c"}``.
Row = dict[str, bytes]


class Feeder(Protocol):
    """Sets variables for the next iteration of one VU."""

    def fill(self, into: dict[str, bytes]) -> bool:
        """Write this iteration's values into ``into``; False when there are none left."""
        ...


class ExhaustionEvents(Protocol):
    """Told when a feeder runs out (see :class:`FeederEnd`)."""

    def stopped(self) -> None:
        """A VU's iteration was refused: a feeder with ``on_exhausted = "stop"`` ran out."""
        ...

    def failed(self, message: str) -> None:
        """A feeder with ``on_exhausted = "fail"`` ran out; ``message`` says which."""
        ...


def partition(rows: Sequence[T], *, worker: int, workers: int) -> list[T]:
    """Worker ``worker``'s share of ``rows`` in ``unique`` mode: rows worker, worker+W, ...

    The shares of workers 0..W-1 are disjoint and together hold every row, so
    each row goes to exactly one process, without any locking between them.
    """
    return list(rows[worker::workers])


def variables_of(name: str, data: DataRows) -> list[Row]:
    """Each row of a feeder named ``name`` as ready-made variables (``name.field``, UTF-8)."""
    keys = [f"{name}.{field}" for field in data.fields]
    return [dict(zip(keys, (value.encode() for value in row), strict=True)) for row in data.rows]


class RowFeeder:
    """Rows in order: the ``sequential``, ``circular`` and ``unique`` modes.

    Args:
        name: the feeder's name, for the error of ``on_exhausted = "fail"``.
        rows: this worker's rows, as variables.
        on_exhausted: what to do after the last row (``circular`` is ``recycle``).
        events: told when the rows run out with ``stop`` or ``fail``.
    """

    __slots__ = ("_name", "_rows", "_next", "_on_exhausted", "_events", "used")

    def __init__(
        self, name: str, rows: list[Row], on_exhausted: OnExhausted, events: ExhaustionEvents
    ) -> None:
        self._name = name
        self._rows = rows
        self._next = 0
        self._on_exhausted = on_exhausted
        self._events = events
        #: Rows handed out so far (recycled ones again).
        self.used = 0

    def fill(self, into: dict[str, bytes]) -> bool:
        """Write the next row into ``into``; False when there is none (stop, fail)."""
        index = self._next
        if index >= len(self._rows):
            if self._on_exhausted is not OnExhausted.RECYCLE or not self._rows:
                self._exhausted()
                return False
            index = 0
        into.update(self._rows[index])
        self._next = index + 1
        self.used += 1
        return True

    def _exhausted(self) -> None:
        if self._on_exhausted is OnExhausted.FAIL:
            self._events.failed(
                f"data {self._name!r} ran out of rows after {self.used} in this worker, "
                "and its on_exhausted is 'fail'; allowed more rows, or on_exhausted "
                "'stop' or 'recycle'"
            )
        else:
            self._events.stopped()


class RandomFeeder:
    """A row drawn at random for each iteration (``random`` mode); never runs out."""

    __slots__ = ("_rows", "_random")

    def __init__(self, rows: list[Row], rng: random.Random) -> None:
        self._rows = rows
        self._random = rng

    def fill(self, into: dict[str, bytes]) -> bool:
        """Write a random row into ``into``."""
        into.update(self._rows[int(self._random.random() * len(self._rows))])
        return True


def _read(cfg: FeederConfig, where: str) -> DataRows:
    try:
        return read_rows(cfg.file, cfg.data_format)
    except Problem as exc:  # the file changed since the plan was validated
        raise exc.at_field(f"{where}.file") from None


def build_feeder(
    cfg: FeederConfig,
    *,
    worker: int,
    workers: int,
    events: ExhaustionEvents,
    where: str = "data",
) -> Feeder:
    """Worker ``worker`` of ``workers``'s feeder for one ``[[data]]`` entry (reads its file).

    Args:
        where: the entry's place in the plan, for errors (``data[0]``).

    Raises:
        ConfigError: the file can no longer be read, or is no longer valid.
    """
    rows = variables_of(cfg.name, _read(cfg, where))
    if cfg.mode is FeederMode.RANDOM:
        return RandomFeeder(rows, random.Random(f"data/{cfg.name}/{worker}"))
    if cfg.mode is FeederMode.UNIQUE:
        rows = partition(rows, worker=worker, workers=workers)
    policy = OnExhausted.RECYCLE if cfg.mode is FeederMode.CIRCULAR else cfg.on_exhausted
    return RowFeeder(cfg.name, rows, policy, events)


def build_feeders(
    plan: Plan, *, worker: int, workers: int, run_id: str, events: ExhaustionEvents
) -> list[Feeder]:
    """Everything that sets variables before an iteration: the plan's feeders and
    generators, and the run's id; empty for a plan with neither (the VU's fast path).

    Raises:
        ConfigError: a feeder's file can no longer be read, or is no longer valid.
    """
    if not plan.data and not plan.generate:
        return []
    feeders: list[Feeder] = [RunId(run_id)]
    for index, cfg in enumerate(plan.data):
        feeders.append(
            build_feeder(cfg, worker=worker, workers=workers, events=events, where=f"data[{index}]")
        )
    feeders.extend(build_generator(gen, worker=worker, workers=workers) for gen in plan.generate)
    return feeders


class FeederEnd:
    """What a worker does when its feeders run out.

    ``stop``: each refused iteration leaves its VU idle, uncounted by the
    executor (it never calls back). Once every VU the executor has is idle, so
    nothing is in flight, the executor is stopped, on the next turn of the loop
    (never from inside the executor's own call). In the closed model that is
    every VU retiring; in the open model, arrivals that reach an idle VU leave it
    idle too, so the worker's load ends once each of its VUs has met an arrival.

    ``fail``: the failure is reported (the worker sends it to the parent, which
    ends the run with it) and the executor is stopped, once.

    Args:
        clock: the worker's clock, to defer the stop to the next turn of the loop.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._executor: Executor | None = None
        self._report: Callable[[str], None] | None = None
        self._ending = False
        #: VUs left idle because a feeder ran out.
        self.parked = 0
        #: The failure reported, if a feeder with ``fail`` ran out.
        self.failure: str | None = None

    def attach(self, executor: Executor, report: Callable[[str], None]) -> None:
        """Watch ``executor``; ``report`` sends a failure to whoever ends the run."""
        self._executor = executor
        self._report = report

    def stopped(self) -> None:
        """A VU went idle because a feeder ran out (``stop``)."""
        self.parked += 1
        self.check()

    def check(self) -> None:
        """Stop the executor if every VU it has is idle for want of data."""
        executor = self._executor
        if executor is None or self._ending or not self.parked:
            return
        if self.parked >= executor.active_vus():
            self._end(executor)

    def failed(self, message: str) -> None:
        """A feeder with ``fail`` ran out: report it and stop the executor."""
        self.parked += 1
        if self._ending or self._executor is None:
            return
        self.failure = message
        if self._report is not None:
            self._report(message)
        self._end(self._executor)

    def _end(self, executor: Executor) -> None:
        self._ending = True
        self._clock.call_at_ns(self._clock.now_ns(), executor.stop)
