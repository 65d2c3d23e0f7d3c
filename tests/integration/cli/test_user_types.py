"""Python user types end to end: the weighted mix and task weights seen by the server."""

from __future__ import annotations

from pathlib import Path

from redline.demo.capacity import capacity_server
from tests.integration.cli.test_run import redline, results

SCENARIO = """
from redline.scenario import Scenario, User, task

scenario = Scenario(
    base_url="{url}",
    requests=[
        {{"name": "login", "url": "/login"}},
        {{"name": "browse", "url": "/browse"}},
        {{"name": "search", "url": "/search"}},
        {{"name": "buy", "url": "/buy"}},
        {{"name": "logout", "url": "/logout"}},
    ],
    executor={{"type": "constant-vus", "vus": 8, "duration": "10s"}},
    workers=2,
)


@scenario.user(weight=3)
class Browser(User):
    async def on_start(self) -> None:
        await self.request("login")

    async def on_stop(self) -> None:
        await self.request("logout")

    @task(3)
    async def browse(self) -> None:
        await self.request("browse")

    @task(1)
    async def search(self) -> None:
        response = await self.request("search")
        response.check(response.body == b"nope", "search finds nope")


@scenario.user(weight=1)
class Buyer(User):
    @task()
    async def buy(self) -> None:
        await self.request("buy")
"""


def test_user_types_follow_their_weights_and_tasks_theirs(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    with capacity_server(slots=16, service_s=0.002) as server:
        script = tmp_path / "users.py"
        script.write_text(SCENARIO.format(url=server.url.rstrip("/")))
        proc = redline("run", str(script), "--quiet", "--out", str(out))
        paths = dict(server.paths)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # failed checks are counted, not fatal
    # 8 VUs over 2 workers, 3:1 -> 6 browsers (each logs in once) and 2 buyers.
    assert paths["/login"] == 6
    assert paths["/logout"] == 6  # each browser logs out once, as it leaves
    browsers = paths["/browse"] + paths["/search"]
    # Same latency for every path, so requests follow VUs: 6:2.
    assert 2.4 <= browsers / paths["/buy"] <= 3.6, paths
    # Within a browser, tasks 3:1.
    assert 2.4 <= paths["/browse"] / paths["/search"] <= 3.6, paths
    search = results(out)["summary"]["endpoints"]["search"]
    assert search["outcomes"] == {"check:search finds nope": paths["/search"]}
    assert "check:search finds nope" in proc.stdout


ADHOC = """
from redline.scenario import Scenario, User, task

scenario = Scenario(
    base_url="{url}",
    requests=[{{"name": "home", "url": "/"}}],
    executor={{"type": "per-vu-iterations", "vus": 2, "iterations": 5}},
    workers=1,
)


@scenario.user()
class Shopper(User):
    @task()
    async def shop(self) -> None:
        await self.request("home")
        item = await self.get(f"/items/{{self.number}}", name="item")
        item.check(item.status == 200, "item found")
        await self.post("/cart", body='{{"id": 1}}', name="add to cart")
"""


def test_users_send_paths_of_their_own_counted_under_their_names(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    with capacity_server(slots=4, service_s=0.001) as server:
        script = tmp_path / "adhoc.py"
        script.write_text(ADHOC.format(url=server.url.rstrip("/")))
        proc = redline("run", str(script), "--quiet", "--out", str(out))
        paths = dict(server.paths)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert paths == {"/": 10, "/items/0": 5, "/items/1": 5, "/cart": 10}
    endpoints = results(out)["summary"]["endpoints"]
    assert {name: e["count"] for name, e in endpoints.items()} == {
        "home": 10,
        "item": 10,
        "add to cart": 10,
    }


def test_pacing_misses_are_reported(tmp_path: Path) -> None:
    # Each request takes 150 ms; the pacing asks for one every 100 ms.
    out = tmp_path / "r.json"
    plan = tmp_path / "paced.toml"
    with capacity_server(slots=8, service_s=0.15) as server:
        plan.write_text(
            f'base_url = "{server.url.rstrip("/")}"\nworkers = 1\npacing = "100ms"\n'
            '[executor]\ntype = "per-vu-iterations"\nvus = 2\niterations = 5\n'
            '[[requests]]\nname = "slow"\nurl = "/"\n'
        )
        proc = redline("run", str(plan), "--quiet", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # After each VU's first iteration, every one is due before the last has ended.
    assert results(out)["self_check"]["pacing_misses"] == 2 * 4
    assert "8 iterations ran longer than the pacing" in proc.stdout
