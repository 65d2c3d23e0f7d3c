"""A Python scenario: one named request, a status check and one extracted value.

Run it against a server of your own on loopback, for example:
    redline run examples/check_extract.py
"""

from redline.scenario import Scenario, Session

scenario = Scenario(
    name="check-extract",
    base_url="http://127.0.0.1:8080",
    requests=[{"name": "home", "url": "/"}],
    executor={"type": "constant-vus", "vus": 64, "duration": "10s"},
    thresholds=["error_rate<1%"],
)


@scenario.iteration
async def iteration(session: Session) -> None:
    response = await session.request("home")
    response.expect_status(200)
    session.variables["token"] = response.extract(rb"(ok)")
