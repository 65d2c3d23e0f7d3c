"""Recorded headers to replay, and which recorded responses are static assets."""

from __future__ import annotations

import pytest

from redline.plan._importers._headers import HOP_BY_HOP_HEADERS, replayable_headers
from redline.plan._importers._static import is_static


@pytest.mark.parametrize("name", sorted(HOP_BY_HOP_HEADERS | {"Host", "Content-Length"}))
def test_connection_and_client_headers_are_dropped(name: str) -> None:
    assert replayable_headers([(name.title(), "x"), ("A", "1")], keep_credentials=True) == {
        "A": "1"
    }


def test_pseudo_headers_are_dropped() -> None:
    pairs = [(":authority", "h"), (":path", "/"), (":method", "GET"), (":scheme", "https")]
    assert replayable_headers(pairs, keep_credentials=True) == {}


def test_headers_the_connection_header_names_are_dropped() -> None:
    pairs = [("Connection", "close, X-Hop"), ("x-hop", "1"), ("X-Kept", "2")]
    assert replayable_headers(pairs, keep_credentials=False) == {"X-Kept": "2"}


@pytest.mark.parametrize("keep", [True, False])
def test_credentials_only_when_kept(keep: bool) -> None:
    pairs = [("Cookie", "a=1"), ("Authorization", "Bearer t")]
    assert bool(replayable_headers(pairs, keep_credentials=keep)) is keep


@pytest.mark.parametrize(
    ("url", "media_type", "static"),
    [
        ("https://h/a", "image/png", True),
        ("https://h/a", "IMAGE/WEBP", True),
        ("https://h/a", "font/woff2", True),
        ("https://h/a", "application/font-woff", True),
        ("https://h/a", "text/css;charset=UTF-8", True),
        ("https://h/a", "application/javascript", True),
        ("https://h/a.js?v=1", "", True),
        ("https://h/a.JPEG", "", True),
        ("https://h/a", "application/json", False),
        ("https://h/a", "text/html", False),
        ("https://h/api/js", "application/json", False),
        ("https://h/a.json", "", False),
    ],
)
def test_static_assets(url: str, media_type: str, static: bool) -> None:
    assert is_static(url, media_type) is static
