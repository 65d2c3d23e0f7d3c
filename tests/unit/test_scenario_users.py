"""User types of Python scenarios: the mix, task weights and their errors."""

from __future__ import annotations

import asyncio
import collections
from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.plan import load_python_scenario, scenario_iteration
from redline.scenario import (
    Response,
    Scenario,
    Session,
    User,
    task,
    user_type_for,
    users_iteration,
)


class A(User):
    @task()
    async def a(self) -> None: ...


class B(User):
    @task()
    async def b(self) -> None: ...


def test_the_mix_follows_the_weights_in_every_prefix() -> None:
    users: list[tuple[type[User], int]] = [(A, 3), (B, 1)]
    kinds = [user_type_for(n, users) for n in range(8)]
    assert kinds == [A, A, B, A, A, A, B, A]
    for prefix in range(4, 400, 4):
        counts = collections.Counter(user_type_for(n, users) for n in range(prefix))
        assert counts[A] == 3 * prefix // 4


@pytest.mark.parametrize("weight", [0, 1001, 1.5, True])
def test_weights_out_of_range_are_refused(weight: object) -> None:
    with pytest.raises(ValueError, match=r"weight: .* is out of range; allowed 1..1000"):
        task(weight)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"user weight"):
        Scenario().user(weight=weight)  # type: ignore[arg-type]


def test_a_user_type_needs_tasks_and_a_user_base() -> None:
    scenario = Scenario()
    with pytest.raises(TypeError, match="no @task methods"):

        @scenario.user()
        class Idle(User):
            pass

    with pytest.raises(TypeError, match="not a subclass"):
        scenario.user()(int)  # type: ignore[type-var]


def test_tasks_run_by_weight_after_on_start_once() -> None:
    calls: list[str] = []

    class Shopper(User):
        async def on_start(self) -> None:
            calls.append("start")

        @task(3)
        async def look(self) -> None:
            calls.append("look")

        @task(1)
        async def buy(self) -> None:
            calls.append("buy")

    scenario = Scenario()
    scenario.user()(Shopper)
    iteration = users_iteration(scenario.users)
    session = Session(number=5)
    for _ in range(4_000):
        asyncio.run(iteration(session))
    assert calls.count("start") == 1
    assert calls[0] == "start"
    assert 2.7 <= calls.count("look") / calls.count("buy") <= 3.3


def test_check_marks_the_response_failed_with_its_name() -> None:
    response = Response(200, b"{}")
    assert response.check(True, "fine")
    assert response.failure is None
    assert not response.check(False, "has token")
    assert response.failure == "check:has token"
    assert not response.check(False, "second")
    assert response.failure == "check:has token"  # the first failure is the one recorded


def test_a_scenario_with_both_or_neither_is_refused(tmp_path: Path) -> None:
    both = tmp_path / "both.py"
    both.write_text(
        "from redline.scenario import Scenario, User, task\n"
        "scenario = Scenario(base_url='http://127.0.0.1:9', requests=[{'name': 'a', 'url': '/'}])\n"
        "@scenario.iteration\n"
        "async def it(session): pass\n"
        "@scenario.user()\n"
        "class U(User):\n"
        "    @task()\n"
        "    async def t(self): pass\n"
    )
    with pytest.raises(ConfigError, match="both an iteration function and user types"):
        load_python_scenario(both)
    neither = tmp_path / "neither.py"
    neither.write_text(
        "from redline.scenario import Scenario\n"
        "scenario = Scenario(base_url='http://127.0.0.1:9', requests=[{'name': 'a', 'url': '/'}])\n"
    )
    with pytest.raises(ConfigError, match="no iteration function and no user types"):
        load_python_scenario(neither)
    users = tmp_path / "users.py"
    users.write_text(
        both.read_text().replace("@scenario.iteration\nasync def it(session): pass\n", "")
    )
    plan = load_python_scenario(users)
    assert scenario_iteration(plan) is not None


def test_a_scenario_file_missing_or_raising_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.py: cannot read: no such file$"):
        load_python_scenario(tmp_path / "nope.py")
    raising = tmp_path / "raising.py"
    raising.write_text("raise ValueError('boom')\n")
    with pytest.raises(ConfigError, match=r"raising\.py: importing it raised ValueError: boom$"):
        load_python_scenario(raising)
