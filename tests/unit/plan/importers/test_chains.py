"""Chaining: a value from an earlier JSON response, extracted and sent as ${name} later."""

from __future__ import annotations

import base64
import json

from redline.plan._importers import DraftRequest
from redline.plan._importers._chains import (
    RecordedResponse,
    chained,
    find_chains,
    string_fields,
)

TOKEN = "eyJhbGciOiJIUzI1NiJ9.payload.sig"


def get(name: str, url: str, **more: object) -> DraftRequest:
    return DraftRequest(name=name, method="GET", url=url, **more)  # type: ignore[arg-type]


def json_response(document: object) -> RecordedResponse:
    return RecordedResponse(text=json.dumps(document), media_type="application/json")


def chain_all(
    requests: list[DraftRequest], responses: list[RecordedResponse]
) -> list[DraftRequest]:
    return chained(requests, find_chains(requests, responses))


def test_string_fields_have_paths_that_name_them() -> None:
    document = {"data": {"token": "t"}, "items": [{"id": "a"}], "odd key": "b", "n": 1}
    assert list(string_fields(document)) == [
        ("$.data.token", "t"),
        ("$.items[0].id", "a"),
        ('$["odd key"]', "b"),
    ]


def test_a_value_from_a_response_is_extracted_and_sent_as_a_placeholder() -> None:
    requests = [
        DraftRequest(name="login", method="POST", url="/login", body='{"user": "ann"}'),
        get("me", f"/users/me?token={TOKEN}", headers={"Authorization": f"Bearer {TOKEN}"}),
        DraftRequest(name="save", method="POST", url="/save", body=f'{{"t": "{TOKEN}"}}'),
    ]
    responses = [json_response({"data": {"token": TOKEN}}), RecordedResponse(), RecordedResponse()]
    login, me, save = chain_all(requests, responses)
    assert login.extract == {"token": "$.data.token"}
    assert me.url == "/users/me?token=${token}"
    assert me.headers == {"Authorization": "Bearer ${token}"}
    assert save.body == '{"t": "${token}"}'
    assert me.comments == [
        "${token} is $.data.token of the response to 'login' "
        "(recorded as 'eyJhbGciOiJIUzI1NiJ9.payload.sig')."
    ]


def test_short_values_and_values_the_client_sent_first_are_not_chained() -> None:
    requests = [
        DraftRequest(name="new", method="POST", url="/items", body='{"name": "teapot-deluxe"}'),
        get("a", "/items/teapot-deluxe"),
        get("b", "/items/short"),
    ]
    responses = [json_response({"name": "teapot-deluxe", "tag": "short"})] + [
        RecordedResponse()
    ] * 2
    assert find_chains(requests, responses) == []


def test_a_value_is_taken_from_the_first_response_that_holds_it() -> None:
    requests = [get("list", "/items"), get("one", "/items/itm_00000001"), get("again", "/x")]
    responses = [
        json_response({"items": [{"id": "itm_00000001"}]}),
        json_response({"id": "itm_00000001"}),
        RecordedResponse(),
    ]
    (chain,) = find_chains(requests, responses)
    assert (chain.variable, chain.path, chain.source, chain.uses) == (
        "id",
        "$.items[0].id",
        0,
        (1,),
    )


def test_variables_are_unique_and_the_longest_value_wins_an_overlap() -> None:
    requests = [get("a", "/a"), get("b", "/b/abcdefgh-12345678/abcdefgh")]
    responses = [json_response({"x": {"id": "abcdefgh"}, "y": {"id": "abcdefgh-12345678"}}),
                 RecordedResponse()]  # fmt: skip
    _, b = chain_all(requests, responses)
    assert b.url == "/b/${id_2}/${id}"


def test_the_url_origin_and_the_first_slash_are_never_templated() -> None:
    requests = [get("a", "/a"), get("b", "/next/page"), get("c", "http://other.test/next/page")]
    responses = [
        json_response({"next": "/next/page", "host": "other.test"}),
        *[RecordedResponse()] * 2,
    ]
    assert find_chains(requests, responses) == []


def test_only_json_bodies_are_read_including_base64_ones() -> None:
    body = json.dumps({"id": "itm_12345678"})
    requests = [get("a", "/a"), get("b", "/b"), get("c", "/c"), get("d", "/items/itm_12345678")]
    responses = [
        RecordedResponse(text=body, media_type="text/html"),  # not JSON by type, but looks it
        RecordedResponse(text="{not json", media_type="application/json"),
        RecordedResponse(text="!!", media_type="application/json", encoding="base64"),
        RecordedResponse(),
    ]
    assert [c.source for c in find_chains(requests, responses)] == [0]
    encoded = base64.b64encode(body.encode()).decode()
    responses[0] = RecordedResponse(text=encoded, media_type="application/json", encoding="base64")
    assert [c.path for c in find_chains(requests, responses)] == ["$.id"]
