"""Writing drafts as TOML: comments on top, values that round-trip, and a plan that loads."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.errors import ConfigError
from redline.plan._importers import DraftRequest, PlanDraft, executor_table, render_plan
from redline.plan._importers._writer import COMMENT_WIDTH, PICK_NOTE

EXECUTOR = executor_table()


def plan_draft(*requests: DraftRequest, **more: object) -> PlanDraft:
    fields: dict[str, object] = {
        "name": "t",
        "origin": "a test",
        "base_url": "http://127.0.0.1:8080",
        "requests": list(requests) or [DraftRequest(name="home", method="GET", url="/")],
    }
    return PlanDraft(**{**fields, **more})  # type: ignore[arg-type]


def test_the_file_reads_as_the_draft() -> None:
    request = DraftRequest(
        name="POST /items",
        method="POST",
        url="/items?a=1",
        headers={"Content-Type": "application/json", "X-Quote": 'it\'s "so"'},
        body='{"name": "teapot"}',
        expect_status=[201],
    )
    text = render_plan(plan_draft(request, verify_tls=False), executor=EXECUTOR)
    assert tomllib.loads(text) == {
        "name": "t",
        "base_url": "http://127.0.0.1:8080",
        "verify_tls": False,
        "executor": {"type": "constant-vus", "vus": 1, "duration": "10s"},
        "requests": [
            {
                "name": "POST /items",
                "method": "POST",
                "url": "/items?a=1",
                "body": '{"name": "teapot"}',
                "expect_status": [201],
                "headers": {"Content-Type": "application/json", "X-Quote": 'it\'s "so"'},
            }
        ],
    }


def test_json_bodies_are_written_without_escapes() -> None:
    request = DraftRequest(name="a", method="POST", url="/", body='{"id": 1}')
    assert "body = '{\"id\": 1}'\n" in render_plan(plan_draft(request), executor=EXECUTOR)


def test_only_what_differs_from_the_defaults_is_written() -> None:
    text = render_plan(plan_draft(), executor=EXECUTOR)
    assert "verify_tls" not in text
    assert "headers" not in text and "body" not in text and "expect_status" not in text


def test_comments_come_first_and_are_wrapped() -> None:
    long_note = "word " * 60
    text = render_plan(plan_draft(notes=[long_note.strip(), "bad\nline"]), executor=EXECUTOR)
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert text.splitlines()[: len(comments)] == comments
    assert comments[0] == "# Imported by redline from a test."
    assert all(len(line) <= COMMENT_WIDTH for line in comments)
    assert "# bad?line" in comments
    assert " ".join(line[2:] for line in comments).endswith(PICK_NOTE)


printable_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(body=printable_text, value=printable_text.filter(lambda v: not {"\r", "\n", "\0"} & set(v)))
def test_any_body_and_header_value_round_trip(body: str, value: str) -> None:
    request = DraftRequest(name="r", method="POST", url="/", headers={"X-V": value}, body=body)
    read = tomllib.loads(render_plan(plan_draft(request), executor=EXECUTOR))
    assert read["requests"][0]["body"] == body
    assert read["requests"][0]["headers"] == {"X-V": value}


def test_a_draft_the_plan_refuses_is_one_line_naming_the_key() -> None:
    request = DraftRequest(name="r", method="GET", url="/", headers={"X-Bad": "a\nb"})
    with pytest.raises(ConfigError, match=r"^imported plan: requests\[0\]\.headers\.X-Bad: "):
        render_plan(plan_draft(request), executor=EXECUTOR)


def test_steps_extract_and_comments_are_written() -> None:
    from redline.plan._importers._draft import DraftStep
    from redline.plan._importers._writer import STEPS_NOTE

    create = DraftRequest(name="new", method="POST", url="/items", extract={"id": "$.id"})
    show = DraftRequest(name="show", method="GET", url="/items/${id}", comments=["${id} is $.id."])
    draft = plan_draft(create, show, steps=[DraftStep("new", 1.25), DraftStep("show")])
    text = render_plan(draft, executor=EXECUTOR)
    written = tomllib.loads(text)
    assert written["steps"] == [{"request": "new", "think_time": "1.25s"}, {"request": "show"}]
    assert written["requests"][0]["extract"] == {"id": {"json": "$.id"}}
    assert '[[requests]]\n# ${id} is $.id.\nname = "show"' in text
    assert f"# {STEPS_NOTE}\n" in text
    assert PICK_NOTE not in text
