"""Two user types, 3 browsers to 1 buyer, each with weighted tasks.

Start a target and run it (both on loopback):
    python -m redline.demo.capacity --port 18083 --slots 8 --service-ms 5
    redline run examples/user_types.py
"""

from redline.scenario import Scenario, User, task

scenario = Scenario(
    name="shop",
    base_url="http://127.0.0.1:18083",
    requests=[
        {"name": "login", "url": "/login"},
        {"name": "browse", "url": "/browse"},
        {"name": "search", "url": "/search?q=lamp"},
        {"name": "buy", "url": "/buy"},
    ],
    executor={"type": "constant-vus", "vus": 8, "duration": "10s"},
    think_time={"dist": "uniform", "min": "10ms", "max": "30ms"},
)


@scenario.user(weight=3)
class Browser(User):
    async def on_start(self) -> None:
        await self.request("login")

    @task(3)
    async def browse(self) -> None:
        response = await self.request("browse")
        response.check(response.body == b"ok", "browse answers ok")

    @task(1)
    async def search(self) -> None:
        await self.request("search")


@scenario.user(weight=1)
class Buyer(User):
    @task()
    async def buy(self) -> None:
        await self.request("buy")
