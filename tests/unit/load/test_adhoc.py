"""Requests a Python scenario sends by path: prepared once, counted under their names."""

from __future__ import annotations

import pytest

from redline.load._action import Action, build_actions
from redline.load._scripted import AdhocActions
from redline.plan import plan_from_mapping
from redline.scenario import Session


def _adhoc() -> tuple[AdhocActions, list[Action]]:
    plan = plan_from_mapping(
        {"base_url": "http://127.0.0.1:9/api", "requests": [{"name": "home", "url": "/"}]}
    )
    registered: list[Action] = []
    base = build_actions(plan)[0]
    adhoc = AdhocActions(base, register=registered.append, base_url=plan.base_url)
    return adhoc, registered


def test_a_path_is_prepared_once_and_named() -> None:
    adhoc, registered = _adhoc()
    session = Session()
    first = adhoc.action_for(session.get("/items/1", name="item"))  # type: ignore[arg-type]
    again = adhoc.action_for(session.get("/items/1", name="item"))  # type: ignore[arg-type]
    other = adhoc.action_for(session.get("/items/2", name="item"))  # type: ignore[arg-type]
    assert first is again
    assert other is not first
    assert other.recorder is first.recorder  # one name, one endpoint in the report
    assert registered == [first]
    assert first.request.wire.startswith(b"GET /api/items/1 HTTP/1.1\r\n")


def test_a_post_carries_its_body_and_headers() -> None:
    adhoc, _ = _adhoc()
    send = Session().post("/cart", body='{"id": 1}', headers={"X-Trace": "t1"})
    action = adhoc.action_for(send)  # type: ignore[arg-type]
    wire = action.request.wire
    assert wire.startswith(b"POST /api/cart HTTP/1.1\r\n")
    assert b"X-Trace: t1\r\n" in wire
    assert wire.endswith(b'{"id": 1}')
    assert action.recorder.endpoint == "/cart"  # no name: the path is the name


@pytest.mark.parametrize(
    ("path", "message"),
    [("http://127.0.0.1:9/x", "is not a path"), ("items", "is not a path")],
)
def test_only_paths_on_the_plans_host(path: str, message: str) -> None:
    adhoc, _ = _adhoc()
    with pytest.raises(ValueError, match=message):
        adhoc.action_for(Session().get(path))  # type: ignore[arg-type]


def test_bad_names_and_too_many_names_are_script_errors() -> None:
    adhoc, _ = _adhoc()
    with pytest.raises(ValueError, match="bracket"):
        adhoc.action_for(Session().get("/x", name="a[1]"))  # type: ignore[arg-type]
    for n in range(AdhocActions.MAX_NAMES):
        adhoc.action_for(Session().get(f"/n/{n}"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="give name= to paths that vary"):
        adhoc.action_for(Session().get("/one/more"))  # type: ignore[arg-type]
