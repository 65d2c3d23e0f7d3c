"""HAR import: a request per entry, headers filtered, static assets skipped, base_url rewritten."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from redline.errors import ConfigError
from redline.plan import load_plan
from redline.plan._importers import (
    HarImportConfig,
    PlanDraft,
    executor_table,
    import_har,
    read_text,
    render_plan,
)

FIXTURE = Path(__file__).parents[3] / "fixtures" / "import" / "shop.har"
ORIGIN = "https://staging.shop.test"


def entry(
    url: str,
    *,
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    status: int = 200,
    mime: str = "application/json",
    post: dict[str, Any] | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": method,
        "url": url,
        "headers": [{"name": n, "value": v} for n, v in headers or []],
    }
    if post is not None:
        request["postData"] = post
    return {"request": request, "response": {"status": status, "content": {"mimeType": mime}}}


def har(*entries: dict[str, Any]) -> str:
    return json.dumps({"log": {"version": "1.2", "entries": list(entries)}})


def imported(*entries: dict[str, Any], **config: Any) -> PlanDraft:
    return import_har(har(*entries), source="t.har", config=HarImportConfig(**config))


def shop(**config: Any) -> PlanDraft:
    return import_har(read_text(FIXTURE), source=str(FIXTURE), config=HarImportConfig(**config))


def test_one_request_per_entry_in_order_with_recorded_status() -> None:
    draft = shop()
    assert [(r.name, r.method, r.url, r.expect_status) for r in draft.requests] == [
        ("GET /", "GET", "/", [200]),
        ("GET /api/items", "GET", "/api/items?page=1", [200]),
        ("POST /api/items", "POST", "/api/items", [201]),
        ("GET /api/items/itm_7f3a9c21", "GET", "/api/items/${id}", [200]),
        ("GET /api/items (2)", "GET", "/api/items?page=2", [200]),
        ("POST /login", "POST", "/login", [303]),
    ]
    assert draft.name == "shop"
    assert draft.origin == "the HAR file shop.har"


def test_base_url_is_the_first_origin_and_its_urls_are_paths() -> None:
    draft = shop()
    assert draft.base_url == ORIGIN
    assert all(request.url.startswith("/") for request in draft.requests)


def test_base_url_flag_points_the_recording_elsewhere() -> None:
    draft = shop(base_url="http://127.0.0.1:8080/")
    assert draft.base_url == "http://127.0.0.1:8080"
    assert draft.requests[1].url == "/api/items?page=1"
    assert f"Recorded against {ORIGIN}; base_url sends those requests to" in " ".join(draft.notes)
    assert not any(note.startswith("Not loopback") for note in draft.notes)


def test_other_origins_stay_absolute_and_every_host_is_named() -> None:
    draft = imported(
        entry("http://127.0.0.1:8080/a"),
        entry("https://analytics.shop.test/collect?x=1#frag", status=204),
        entry("http://127.0.0.1:80/b"),
        entry("http://localhost:8080/c"),
    )
    assert [r.url for r in draft.requests] == [
        "/a",
        "https://analytics.shop.test/collect?x=1",
        "http://127.0.0.1:80/b",
        "http://localhost:8080/c",
    ]
    notes = " ".join(draft.notes)
    assert "Hosts seen: 127.0.0.1:8080, analytics.shop.test, 127.0.0.1, localhost:8080." in notes
    assert "Not loopback: analytics.shop.test." in notes


def test_default_ports_share_the_origin() -> None:
    draft = imported(entry("https://a.test/x"), entry("https://A.test:443/y"))
    assert [r.url for r in draft.requests] == ["/x", "/y"]


def test_static_assets_are_skipped_by_media_type_and_extension() -> None:
    draft = shop()
    assert not any("static" in r.url or r.url.endswith(".js") for r in draft.requests)
    assert draft.notes[0] == (
        "6 of 9 entries imported; 3 static assets skipped (--include-static keeps them)."
    )


@pytest.mark.parametrize(
    ("url", "mime"),
    [
        ("http://127.0.0.1/logo", "image/svg+xml"),
        ("http://127.0.0.1/f", "font/woff2"),
        ("http://127.0.0.1/s", "text/css; charset=utf-8"),
        ("http://127.0.0.1/app", "text/javascript"),
        ("http://127.0.0.1/app.mjs", ""),
        ("http://127.0.0.1/FAVICON.ICO", "application/octet-stream"),
        ("http://127.0.0.1/font.woff2?v=3", ""),
    ],
)
def test_each_kind_of_static_asset_is_skipped(url: str, mime: str) -> None:
    draft = imported(entry("http://127.0.0.1/api"), entry(url, mime=mime))
    assert [r.url for r in draft.requests] == ["/api"]


def test_include_static_keeps_them() -> None:
    draft = shop(include_static=True)
    assert len(draft.requests) == 9
    assert "/static/logo.png" in [r.url for r in draft.requests]


def test_non_http_entries_are_skipped() -> None:
    draft = imported(
        entry("data:image/png;base64,AAAA", mime="text/plain"), entry("http://h.test/")
    )
    assert [r.url for r in draft.requests] == ["/"]
    assert "1 not http(s) skipped" in draft.notes[0]


def test_pseudo_hop_by_hop_and_client_headers_are_dropped() -> None:
    recorded = [
        (":authority", "h.test"),
        (":method", "GET"),
        ("Host", "h.test"),
        ("Content-Length", "3"),
        ("Connection", "keep-alive, X-Private"),
        ("Keep-Alive", "timeout=5"),
        ("Transfer-Encoding", "chunked"),
        ("TE", "trailers"),
        ("Upgrade", "h2c"),
        ("Proxy-Authorization", "Basic eA=="),
        ("X-Private", "only for this hop"),
        ("Accept", "application/json"),
        ("X-Request-Id", "1"),
    ]
    draft = imported(entry("http://h.test/", headers=recorded))
    assert draft.requests[0].headers == {"Accept": "application/json", "X-Request-Id": "1"}


def test_credentials_are_dropped_unless_kept() -> None:
    recorded = [("Cookie", "a=1"), ("authorization", "Bearer t"), ("Accept", "*/*")]
    dropped = imported(entry("http://h.test/", headers=recorded))
    assert dropped.requests[0].headers == {"Accept": "*/*"}
    assert "Cookie and Authorization headers were dropped; --keep-auth keeps them." in dropped.notes
    kept = imported(entry("http://h.test/", headers=recorded), keep_auth=True)
    assert kept.requests[0].headers == {
        "Cookie": "a=1",
        "authorization": "Bearer t",
        "Accept": "*/*",
    }
    assert not any("dropped" in note for note in kept.notes)


def test_repeated_headers_are_joined() -> None:
    recorded = [("Accept", "text/html"), ("accept", "*/*"), ("Cookie", "a=1"), ("Cookie", "b=2")]
    draft = imported(entry("http://h.test/", headers=recorded), keep_auth=True)
    assert draft.requests[0].headers == {"Accept": "text/html, */*", "Cookie": "a=1; b=2"}


def test_post_data_text_is_the_body_and_its_type_is_sent() -> None:
    post = {"mimeType": "application/json", "text": '{"id": 1}'}
    draft = imported(entry("http://h.test/items", method="post", post=post, status=201))
    request = draft.requests[0]
    assert (request.method, request.body, request.expect_status) == ("POST", '{"id": 1}', [201])
    assert request.headers == {"Content-Type": "application/json"}


def test_recorded_content_type_is_not_doubled() -> None:
    post = {"mimeType": "application/json", "text": "{}"}
    recorded = [("content-type", "application/json; charset=utf-8")]
    draft = imported(entry("http://h.test/", method="POST", headers=recorded, post=post))
    assert draft.requests[0].headers == {"content-type": "application/json; charset=utf-8"}


def test_post_data_params_become_a_form_body() -> None:
    draft = shop()
    assert draft.requests[-1].body == "user=ann&password=s3cret"


def test_a_status_that_is_no_response_sets_no_check() -> None:
    draft = imported(entry("http://h.test/", status=0))
    assert draft.requests[0].expect_status is None


def test_names_are_unique_short_and_bracket_free() -> None:
    long_path = "/a" * 80
    draft = imported(
        entry("http://h.test/items[0]"),
        entry("http://h.test/items[0]?again"),
        entry(f"http://h.test{long_path}"),
        entry(f"http://h.test{long_path}/more"),
    )
    names = [r.name for r in draft.requests]
    assert names[:2] == ["GET /items(0)", "GET /items(0) (2)"]
    assert all(len(name) <= 100 for name in names)
    assert names[3].endswith(" (2)")
    assert len(set(names)) == 4


def test_the_written_plan_loads(tmp_path: Path) -> None:
    text = render_plan(shop(), executor=executor_table())
    path = tmp_path / "plan.toml"
    path.write_text(text)
    plan = load_plan(path)
    assert plan.name == "shop"
    assert plan.requests[2].url == f"{ORIGIN}/api/items"
    assert plan.requests[2].body == '{"name": "teapot", "price": 12}'
    assert plan.executor.model_dump(by_alias=True) == {
        "type": "constant-vus",
        "vus": 1,
        "duration": 10.0,
    }
    assert text.startswith("# Imported by redline from the HAR file shop.har.\n")
    assert "# Hosts seen: staging.shop.test.\n" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"log": {"entries": [}', r"^t\.har:1:22: invalid JSON: Expecting value$"),
        ("[]", r"^t\.har: document: \[\] is not an object"),
        ("{}", r"^t\.har: log: missing; this key is required$"),
        ('{"log": {}}', r"^t\.har: log\.entries: missing"),
        ('{"log": {"entries": {}}}', r"^t\.har: log\.entries: \{\} is not a list$"),
        ('{"log": {"entries": []}}', r"^t\.har: log\.entries: \[\] is empty"),
        ('{"log": {"entries": [{}]}}', r"^t\.har: log\.entries\[0\]\.request: missing"),
        (
            '{"log": {"entries": [{"request": {"method": "GET"}}]}}',
            r"^t\.har: log\.entries\[0\]\.request\.url: missing",
        ),
        (
            har(entry("http://h.test/"), {"request": {"url": "http://h.test/"}}),
            r"^t\.har: log\.entries\[1\]\.request\.method: missing",
        ),
        (
            har(entry("http:///nohost")),
            r"^t\.har: log\.entries\[0\]\.request\.url: 'http:///nohost' has no host",
        ),
        (
            json.dumps({"log": {"entries": [{"request": {"method": "GET", "url": "http://h/",
                                                         "headers": ["Accept: */*"]}}]}}),
            r"^t\.har: log\.entries\[0\]\.request\.headers\[0\]: 'Accept: \*/\*' is not an object",
        ),
        (
            har(entry("http://h.test/a.css", mime="text/css")),
            r"^t\.har: log\.entries: none of the 1 entries is left to import \(1 static",
        ),
    ],
)  # fmt: skip
def test_bad_recordings_are_one_line_naming_the_place(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        import_har(text, source="t.har")
    assert "\n" not in caught.value.message


def test_a_bad_base_url_names_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"^--base-url: '127\.0\.0\.1:8080' is not an http"):
        imported(entry("http://h.test/"), base_url="127.0.0.1:8080")


def timed(url: str, started: str, time_ms: float, **more: Any) -> dict[str, Any]:
    return {**entry(url, **more), "startedDateTime": started, "time": time_ms}


def test_steps_replay_the_recording_in_order_with_the_recorded_pauses() -> None:
    draft = shop()
    assert [(step.request, step.think_time_s) for step in draft.steps] == [
        ("GET /", 1.5),
        ("GET /api/items", 0.8),
        (
            "POST /api/items",
            0.0,
        ),  # the next request came 30 ms later: the browser's, not a person's
        ("GET /api/items/itm_7f3a9c21", 0.6),
        ("GET /api/items (2)", 1.2),  # from its end, across the skipped script
        ("POST /login", 0.0),
    ]
    assert any(note.startswith("Steps replay the recording in order") for note in draft.notes)


def test_pauses_are_rounded_and_capped_with_a_note() -> None:
    draft = imported(
        timed("http://h.test/a", "2025-03-04T10:00:00.000Z", 100),
        timed("http://h.test/b", "2025-03-04T11:00:00+01:00", 3.5),  # the same instant as a
        timed("http://h.test/c", "2025-03-04T10:00:01.4465Z", -1),
        timed("http://h.test/d", "2025-03-04T10:05:00Z", 0),
    )
    assert [step.think_time_s for step in draft.steps] == [0.0, 1.35, 10.0, 0.0]
    assert "1 longer cut to 10s" in " ".join(draft.notes)


def test_no_think_time_keeps_the_order_without_pauses() -> None:
    draft = shop(think_time=False)
    assert [step.request for step in draft.steps] == [r.name for r in draft.requests]
    assert all(step.think_time_s == 0 for step in draft.steps)
    assert "without pauses (--no-think-time)" in " ".join(draft.notes)


def test_mix_writes_todays_weighted_mix_without_steps_or_chains() -> None:
    draft = shop(mix=True)
    assert draft.steps == []
    assert all(not r.extract and "${" not in r.url for r in draft.requests)
    text = render_plan(draft, executor=executor_table())
    assert "[[steps]]" not in text
    assert "# Each VU iteration picks one request at random by weight" in text


def test_chains_carry_the_created_id_and_can_be_turned_off() -> None:
    draft = shop()
    assert draft.requests[2].extract == {"id": "$.id"}
    assert draft.requests[3].comments == [
        "${id} is $.id of the response to 'POST /api/items' (recorded as 'itm_7f3a9c21')."
    ]
    plain = shop(chain=False)
    assert plain.requests[3].url == "/api/items/itm_7f3a9c21"
    assert not any(r.extract for r in plain.requests)


def test_the_written_plan_with_steps_loads(tmp_path: Path) -> None:
    text = render_plan(shop(), executor=executor_table())
    path = tmp_path / "plan.toml"
    path.write_text(text)
    plan = load_plan(path)
    assert [(s.request, s.think_time_s) for s in plan.steps][:2] == [
        ("GET /", 1.5),
        ("GET /api/items", 0.8),
    ]
    assert plan.requests[3].url == f"{ORIGIN}/api/items/${{id}}"
    assert "# ${id} is $.id of the response to 'POST /api/items'" in text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("startedDateTime", "yesterday", r"startedDateTime: 'yesterday' is not a date and time"),
        ("startedDateTime", 5, r"startedDateTime: 5 is not a string"),
        ("time", "12", r"time: '12' is not a number of milliseconds"),
        ("time", True, r"time: True is not a number"),
    ],
)
def test_bad_timings_name_the_field(field: str, value: object, message: str) -> None:
    recorded = {**timed("http://h.test/", "2025-03-04T10:00:00Z", 1), field: value}
    with pytest.raises(ConfigError, match=r"^t\.har: log\.entries\[0\]\." + message):
        import_har(har(recorded), source="t.har")
