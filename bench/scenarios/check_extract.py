"""Benchmark 2 as a Python scenario: the same work as check_extract.toml.

One named request, a status check and one value extracted from the body, 64 VUs in
a closed loop. This file is a template: bench/redline_generator.py fills in the base
URL and the duration (string.Template placeholders) and runs the copy with
``redline run``.
"""

from redline.scenario import Scenario, Session

scenario = Scenario(
    name="check_extract",
    base_url="$base_url",
    workers=1,
    requests=[{"name": "get_ok", "method": "GET", "url": "/"}],
    executor={"type": "constant-vus", "vus": 64, "duration": "${duration_s}s"},
)


@scenario.iteration
async def iteration(session: Session) -> None:
    response = await session.request("get_ok")
    response.expect_status(200)
    session.variables["token"] = response.extract(rb"(ok)")
