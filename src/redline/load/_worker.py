"""One worker process: one event loop (uvloop), its share of the plan, and a
once-a-second report of what it measured to the parent.

Messages on the pipe (tuples, first item the kind):

    parent -> worker   ("start", start_ns)    begin at this monotonic instant
                       ("stop",)              stop now, report, exit
    worker -> parent   ("ready", index)       built, waiting for "start"
                       ("second", index, second, [IntervalStats], GeneratorStats)
                       ("done", index, StopReason.value, interrupted_requests, script_errors)
                       ("failed", index, message)
"""

from __future__ import annotations

import asyncio
import gc
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe

import uvloop

from redline.clock import NS_PER_S, MonotonicClock
from redline.errors import RedlineError
from redline.load._action import Action, ActionPicker, build_actions, build_steps
from redline.load._build import EXECUTOR_BUILDERS, build_executor, max_connections
from redline.load._executor import Executor
from redline.load._feeder import FeederEnd, build_feeders
from redline.load._generate import new_run_id
from redline.load._http import Endpoint, TimeoutSweeper
from redline.load._limits import loopback_sources
from redline.load._scenario_set import ScenarioSet
from redline.load._scripted import AdhocActions, scripted_user_factory
from redline.load._selfcheck import CpuMeter, LoopLagProbe, p99
from redline.load._vu import WorkerContext
from redline.metrics import GeneratorStats
from redline.plan import Plan, scenario_iteration

__all__ = ["WorkerSpec", "worker_main"]


#: Sweep for timeouts this many times per timeout, within the bounds below:
#: a timeout is noticed at most 1/100 of itself late, and 50,000 idle
#: connections are not walked 20 times a second.
SWEEPS_PER_TIMEOUT = 100
SWEEP_PERIOD_RANGE_S = (0.05, 1.0)


def sweep_period_s(timeout_s: float) -> float:
    """How often to look for timed-out requests."""
    low, high = SWEEP_PERIOD_RANGE_S
    return min(high, max(low, timeout_s / SWEEPS_PER_TIMEOUT))


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process is given: the plan and which share of it is its own."""

    plan: Plan
    index: int
    count: int
    #: The run's id, made once in the parent so every worker has the same
    #: (empty: the worker makes one of its own).
    run_id: str = ""


def worker_main(pipe: Pipe, spec: WorkerSpec) -> None:
    """Entry point of a worker process."""
    # The parent owns Ctrl-C: it tells workers to stop through the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        worker = _Worker(pipe, spec)
    except RedlineError as exc:
        pipe.send(("failed", spec.index, str(exc)))
        return
    pipe.send(("ready", spec.index))
    message = pipe.recv()
    if message[0] != "start":
        return
    # Everything built so far lives for the whole run: move it out of the
    # cyclic collector's sight, so collections stay short and the loop does
    # not stall for milliseconds while requests wait.
    gc.collect()
    gc.freeze()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(worker.run(message[1]))


class _Worker:
    def __init__(self, pipe: Pipe, spec: WorkerSpec) -> None:
        self._pipe = pipe
        self._spec = spec
        plan = spec.plan
        self._clock = MonotonicClock()
        script = scenario_iteration(plan)
        self._actions = build_actions(plan, keep_bodies=script is not None)
        self._user_factory = (
            scripted_user_factory(
                script,
                {a.request.name: a for a in self._actions},
                # Requests a script sends by path join the actions reported each second.
                AdhocActions(
                    self._base_action(plan),
                    register=self._actions.append,
                    base_url=plan.base_url,
                    cookies=plan.cookies,
                ),
            )
            if script is not None
            else None
        )
        host = self._actions[0].endpoint.host
        by_name = {a.request.name: a for a in self._actions}
        # One picker per scenario (one for a plain plan), over its own requests.
        self._pickers = [
            ActionPicker(
                [by_name[r.name] for r in run.requests],
                [r.weight for r in run.requests],
                seed=spec.index,
                steps=None if run.steps is None else build_steps(run.steps, by_name),
            )
            for run in plan.runs()
        ]
        self._sources = loopback_sources(host, max_connections(plan), worker=spec.index)
        self._data_end = FeederEnd(self._clock)
        self._feeders = build_feeders(
            plan,
            worker=spec.index,
            workers=spec.count,
            run_id=spec.run_id or new_run_id(),
            events=self._data_end,
        )
        self._cpu = CpuMeter()
        self._second = 0
        self._reported_started = 0
        self._reported_dropped = 0
        self._reported_misses = 0

    async def run(self, start_ns: int) -> None:
        plan = self._spec.plan
        sweeper = TimeoutSweeper(
            self._clock,
            timeout_s=plan.request_timeout_s,
            period_s=sweep_period_s(plan.request_timeout_s),
        )
        script_errors: dict[str, int] = {}
        contexts = [
            WorkerContext(
                clock=self._clock,
                picker=picker,
                sweeper=sweeper,
                connect_timeout_s=plan.connect_timeout_s,
                source_addresses=self._sources,
                user_factory=self._user_factory,
                feeders=self._feeders,
                script_errors=script_errors,
                report_failure=self._report_failure,
            )
            for picker in self._pickers
        ]
        executor = self._executor(contexts)
        self._data_end.attach(executor, self._report_failure)
        lag = LoopLagProbe(self._clock)
        loop = asyncio.get_running_loop()
        loop.add_reader(self._pipe.fileno(), self._on_parent_message, executor)
        await self._clock.sleep_until_ns(start_ns)
        self._cpu.read()
        sweeper.start()
        lag.start()
        executor.start(start_ns)
        flusher = asyncio.ensure_future(self._flush_every_second(start_ns, executor, lag))
        reason = await executor.finished
        flusher.cancel()
        lag.stop()
        sweeper.stop()
        loop.remove_reader(self._pipe.fileno())
        self._flush(executor, lag)
        done = ("done", self._spec.index, reason.value, executor.counters.interrupted)
        self._pipe.send((*done, script_errors))

    def _base_action(self, plan: Plan) -> Action:
        """A plan action on ``base_url``'s origin (the first action when there is none)."""
        if plan.base_url is not None:
            origin = Endpoint.from_url(plan.base_url, verify_tls=plan.verify_tls).origin
            for action in self._actions:
                if action.endpoint.origin == origin:
                    return action
        return self._actions[0]

    def _executor(self, contexts: list[WorkerContext]) -> Executor:
        """The plan's executor, or a :class:`ScenarioSet` of one executor per scenario."""
        plan, index, count = self._spec.plan, self._spec.index, self._spec.count
        runs = plan.runs()
        if len(runs) == 1:
            return build_executor(plan, contexts[0], index, count)
        members = [
            (
                run.start_time_s,
                EXECUTOR_BUILDERS[type(run.executor)](run.executor, plan, ctx, index, count),
            )
            for run, ctx in zip(runs, contexts, strict=True)
        ]
        return ScenarioSet(self._clock, members)

    def _report_failure(self, message: str) -> None:
        """Tell the parent the run must end with ``message`` (a feeder ran out, ``fail``)."""
        self._pipe.send(("failed", self._spec.index, message))

    def _on_parent_message(self, executor: Executor) -> None:
        try:
            message = self._pipe.recv()
        except EOFError:  # the parent is gone: stop
            message = ("stop",)
        if message[0] == "stop":
            asyncio.get_running_loop().remove_reader(self._pipe.fileno())
            executor.stop()

    async def _flush_every_second(
        self, start_ns: int, executor: Executor, lag: LoopLagProbe
    ) -> None:
        while True:
            await self._clock.sleep_until_ns(start_ns + (self._second + 1) * NS_PER_S)
            self._flush(executor, lag)

    def _flush(self, executor: Executor, lag: LoopLagProbe) -> None:
        """Send this second's figures to the parent and start the next second."""
        second = self._second
        self._second += 1
        self._data_end.check()  # VUs idle for want of data, while others retired
        stats = [
            s
            for s in (a.recorder.snapshot_and_reset(second) for a in self._actions)
            if s is not None
        ]
        counters = executor.counters
        lags = lag.drain()
        send_lags, counters.send_lags_us = counters.send_lags_us, []
        generator = GeneratorStats(
            cpu_s=self._cpu.read(),
            loop_lag_max_us=max(lags, default=0),
            loop_lag_p99_us=p99(lags),
            send_lag_p99_us=p99(send_lags),
            active_vus=executor.active_vus(),
            dropped_iterations=counters.dropped - self._reported_dropped,
            iterations=counters.started - self._reported_started,
            pacing_misses=counters.pacing_misses - self._reported_misses,
        )
        self._reported_misses = counters.pacing_misses
        self._reported_dropped = counters.dropped
        self._reported_started = counters.started
        self._pipe.send(("second", self._spec.index, second, stats, generator))
