"""Request names: from method and path, within the plan's rules, unique."""

from __future__ import annotations

from redline.plan._importers._names import UniqueNames, clean_name, name_for
from redline.plan._request import MAX_NAME_LENGTH


def test_names_are_method_and_path_without_query() -> None:
    assert name_for("post", "https://h.test/api/items?x=1#f") == "POST /api/items"
    assert name_for("GET", "https://h.test") == "GET /"
    assert name_for("GET", "/relative") == "GET /relative"


def test_clean_names_have_no_brackets_or_unprintables_and_fit() -> None:
    assert clean_name("get[item]\tx") == "get(item)?x"
    assert clean_name("   ") == "request"
    assert len(clean_name("x" * 500)) == MAX_NAME_LENGTH


def test_unique_names_count_up_and_stay_short() -> None:
    names = UniqueNames()
    assert [names.claim("a"), names.claim("a"), names.claim("a")] == ["a", "a (2)", "a (3)"]
    assert names.claim("a (2)") == "a (2) (2)"
    long = "y" * 200
    first, second = names.claim(long), names.claim(long)
    assert len(first) == len(second) == MAX_NAME_LENGTH
    assert second.endswith(" (2)")
