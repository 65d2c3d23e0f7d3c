"""Reading source documents: unreadable files, syntax errors with their place, and places."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.plan._importers._document import (
    Where,
    parse_json,
    parse_json_or_yaml,
    parse_yaml,
    read_text,
)
from redline.plan._importers._origin import host_of, origin_of, relative_to


def test_read_text_drops_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "a.har"
    path.write_bytes(b"\xef\xbb\xbf{}")
    assert read_text(path) == "{}"


def test_unreadable_and_non_utf8_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.har: cannot read: No such file"):
        read_text(tmp_path / "missing.har")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"title: caf\xe9")
    with pytest.raises(ConfigError, match=r"latin\.yaml: not UTF-8 text \(byte 10\)"):
        read_text(latin)


def test_syntax_errors_give_line_and_column() -> None:
    with pytest.raises(ConfigError, match=r"^a\.json:2:3: invalid JSON: Expecting property name"):
        parse_json("{\n  ,}", source="a.json")
    with pytest.raises(ConfigError, match=r"^a\.yaml:3:2: invalid YAML: expected ',' or ']'"):
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", source="a.yaml")
    with pytest.raises(ConfigError, match=r"^a\.yaml:1:1: invalid YAML: found undefined alias"):
        parse_yaml("*nothing\n", source="a.yaml")


def test_yaml_is_read_safely() -> None:
    with pytest.raises(ConfigError, match=r"invalid YAML: could not determine a constructor"):
        parse_yaml("!!python/object/apply:os.getcwd []\n", source="a.yaml")


def test_json_or_yaml_by_suffix_and_first_character() -> None:
    assert parse_json_or_yaml("a: 1", source="api.yml") == {"a": 1}
    assert parse_json_or_yaml(' {"a": 1}', source="api") == {"a": 1}
    with pytest.raises(ConfigError, match="invalid JSON"):
        parse_json_or_yaml("a: 1", source="api.json")


def test_where_names_keys_as_plan_errors_do() -> None:
    where = Where("api.yaml") / "paths" / "/pets/{id}" / "get" / "parameters" / 0
    assert str(where) == 'paths."/pets/{id}".get.parameters[0]'
    assert where.error("bad").message == f"api.yaml: {where}: bad"
    assert str(Where("x")) == "document"


def test_origins() -> None:
    assert origin_of("HTTPS://Shop.Test:443/a") == "https://shop.test"
    assert origin_of("http://[::1]:8080/") == "http://[::1]:8080"
    assert host_of("https://shop.test:8443/a") == "shop.test:8443"
    assert relative_to("https://shop.test/a?b=1#c", "https://shop.test") == "/a?b=1"
    assert relative_to("https://cdn.test/a#c", "https://shop.test") == "https://cdn.test/a"
