"""``[[data]]`` and ``[[generate]]``: defaults, file checks with line numbers, names,
policies and generator keys, and data files read relative to the plan file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from redline.errors import ConfigError
from redline.plan import (
    DataFormat,
    FeederMode,
    GeneratorKind,
    OnExhausted,
    load_plan,
    plan_from_mapping,
    read_rows,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "data"
URL = "http://127.0.0.1:8080/"


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def plan_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"requests": [{"name": "home", "url": URL}]}
    data.update(overrides)
    return data


def feeder(**keys: Any) -> dict[str, Any]:
    return plan_data(data=[{"name": "users", "file": fixture("users.csv"), **keys}])


def refused(data: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        plan_from_mapping(data)
    assert "\n" not in info.value.message


def test_feeder_defaults_to_sequential_stop_and_the_extensions_format() -> None:
    (cfg,) = plan_from_mapping(feeder()).data
    assert cfg.mode is FeederMode.SEQUENTIAL
    assert cfg.on_exhausted is OnExhausted.STOP
    assert cfg.data_format is DataFormat.CSV


def test_jsonl_and_ndjson_extensions_imply_jsonl(tmp_path: Path) -> None:
    ndjson = tmp_path / "rows.ndjson"
    ndjson.write_text('{"a": 1}\n')
    plan = plan_from_mapping(
        plan_data(
            data=[
                {"name": "p", "file": fixture("products.jsonl")},
                {"name": "q", "file": str(ndjson)},
            ]
        )
    )
    assert [cfg.data_format for cfg in plan.data] == [DataFormat.JSONL, DataFormat.JSONL]


def test_format_given_wins_over_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "rows.txt"
    path.write_text('{"a": 1}\n')
    data = plan_data(data=[{"name": "p", "file": str(path), "format": "jsonl"}])
    assert plan_from_mapping(data).data[0].data_format is DataFormat.JSONL


def test_unknown_extension_without_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rows.txt"
    path.write_text("a\n1\n")
    refused(
        plan_data(data=[{"name": "p", "file": str(path)}]),
        r"^data\[0\]\.format: missing, and '.*rows\.txt' has no known extension "
        r"\(\.csv, \.jsonl, \.ndjson\); allowed csv, jsonl$",
    )


def test_csv_rows_keep_quoted_commas() -> None:
    rows = read_rows(fixture("users.csv"), DataFormat.CSV)
    assert rows.fields == ("id", "email", "name")
    assert rows.rows[1] == ("2", "alan@example.com", "Turing, Alan")


def test_jsonl_values_become_text() -> None:
    rows = read_rows(fixture("products.jsonl"), DataFormat.JSONL)
    assert rows.fields == ("sku", "price", "tags", "active", "note")
    assert rows.rows == [("A-1", "9.5", '["x"]', "true", ""), ("B-2", "12", "[]", "false", "gift")]


@pytest.mark.parametrize(
    ("keys", "match"),
    [
        ({"mode": "shuffled"}, r"^data\[0\]\.mode: 'shuffled' is not a feeder mode; "
         r"allowed sequential, random, circular, unique$"),
        ({"on_exhausted": "wrap"}, r"^data\[0\]\.on_exhausted: 'wrap' is not a policy; "
         r"allowed stop, recycle, fail$"),
        ({"format": "xml"}, r"^data\[0\]\.format: 'xml' is not a data format; allowed csv, jsonl$"),
        ({"mode": "unique", "on_exhausted": "recycle"},
         r"^data\[0\]\.on_exhausted: 'recycle' would use rows twice, which mode 'unique' "
         r"forbids; allowed stop, fail"),
        ({"mode": "circular", "on_exhausted": "fail"},
         r"^data\[0\]\.on_exhausted: 'fail' is given with mode 'circular', which never "
         r"runs out; allowed with modes sequential and unique$"),
        ({"name": "user.s"}, r"^data\[0\]\.name: 'user\.s' is not a name; allowed letters"),
        ({"rows": 3}, r"^data\[0\]\.rows: unknown key; allowed file, format, mode, name, "
         r"on_exhausted$"),
    ],
)  # fmt: skip
def test_bad_feeder_keys_are_refused(keys: dict[str, Any], match: str) -> None:
    refused(feeder(**keys), match)


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("no_header.csv", r"^data\[0\]\.file: '.*no_header\.csv' line 1: '101' is not a field "
         r"name; allowed letters, digits and _, not starting with a digit$"),
        ("ragged.csv", r"^data\[0\]\.file: '.*ragged\.csv' line 3: 2 values for 3 header "
         r"fields \(id, email, name\); allowed one value per header field$"),
        ("malformed.jsonl", r"^data\[0\]\.file: '.*malformed\.jsonl' line 2: not JSON "
         r"\(Expecting ',' delimiter, column 14\); allowed one JSON object per line$"),
        ("missing_field.jsonl", r"^data\[0\]\.file: '.*missing_field\.jsonl' line 2: field "
         r"'price' is missing, which line 1 has; allowed the same fields on every line "
         r"\(sku, price\)$"),
        ("header_only.csv", r"^data\[0\]\.file: '.*header_only\.csv' has no rows; allowed a "
         r"file with at least one row under its header$"),
        ("absent.csv", r"^data\[0\]\.file: '.*absent\.csv' does not exist; allowed a readable "
         r"CSV or JSON-lines file$"),
    ],
)  # fmt: skip
def test_bad_files_are_refused_with_their_line(name: str, match: str) -> None:
    data = plan_data(data=[{"name": "d", "file": fixture(name)}])
    refused(data, match)


def test_no_header_error_hints_at_the_header_row() -> None:
    with pytest.raises(ConfigError) as info:
        plan_from_mapping(plan_data(data=[{"name": "d", "file": fixture("no_header.csv")}]))
    assert info.value.hint is not None and "header row" in info.value.hint


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", r"is empty; allowed a header row and at least one row under it$"),
        ("id,id\n1,2\n", r"line 1: field 'id' is given twice; allowed each field once$"),
        ("id,\n1,2\n", r"line 1: '' is not a field name"),
    ],
)
def test_bad_csv_headers_are_refused(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(text)
    refused(plan_data(data=[{"name": "d", "file": str(path)}]), match)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("\n\n", r"has no rows; allowed a file with at least one row$"),
        ('[1, 2]\n', r"line 1: \[1, 2\] is not a JSON object; allowed one JSON object per line$"),
        ('{"a": 1}\n{"a": 2, "b": 3}\n',
         r"line 2: field 'b' is not on line 1; allowed the same fields on every line \(a\)$"),
        ('{"a b": 1}\n', r"line 1: 'a b' is not a field name"),
    ],
)  # fmt: skip
def test_bad_jsonl_lines_are_refused(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(text)
    refused(plan_data(data=[{"name": "d", "file": str(path)}]), match)


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes(b"id\n\xff\n")
    refused(plan_data(data=[{"name": "d", "file": str(path)}]), r"is not UTF-8 text \(byte 3\)")


def test_duplicate_feeder_names_are_refused() -> None:
    users = {"name": "users", "file": fixture("users.csv")}
    refused(
        plan_data(data=[users, users]),
        r"^data\[1\]\.name: 'users' is used twice; names must be unique$",
    )


def test_relative_files_are_read_from_the_plan_files_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "users.csv").write_text("id\n1\n")
    plan_file = tmp_path / "plans" / "plan.toml"
    plan_file.write_text(
        f'[[requests]]\nname = "home"\nurl = "{URL}"\n'
        '[[data]]\nname = "users"\nfile = "users.csv"\n'
    )
    monkeypatch.chdir(tmp_path)
    plan = load_plan(Path("plans/plan.toml"))
    assert Path(plan.data[0].file) == Path("plans/users.csv")


def test_plan_file_names_itself_in_front_of_a_data_error(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(
        f'[[requests]]\nname = "home"\nurl = "{URL}"\n'
        '[[data]]\nname = "users"\nfile = "nowhere.csv"\n'
    )
    with pytest.raises(ConfigError, match=r"plan\.toml: data\[0\]\.file: '.*nowhere\.csv' does"):
        load_plan(plan_file)


# --- generators ---------------------------------------------------------------------


def generator(**keys: Any) -> dict[str, Any]:
    return plan_data(generate=[{"name": "g", **keys}])


def test_generator_defaults() -> None:
    (cfg,) = plan_from_mapping(generator(kind="string")).generate
    assert cfg.kind is GeneratorKind.STRING
    assert (cfg.length, cfg.seed) == (16, 0)
    assert len(cfg.alphabet) == 62


@pytest.mark.parametrize(
    ("keys", "match"),
    [
        ({"kind": "date"}, r"^generate\[0\]\.kind: 'date' is not a generator kind; "
         r"allowed sequence, int, string, uuid, name$"),
        ({"kind": "uuid", "min": 1}, r"^generate\[0\]\.min: given with kind 'uuid'; "
         r"allowed with kind int$"),
        ({"kind": "int", "length": 3}, r"^generate\[0\]\.length: given with kind 'int'; "
         r"allowed with kind string$"),
        ({"kind": "int", "min": 5, "max": 4}, r"^generate\[0\]\.min: 5 is above max 4; "
         r"allowed min <= max$"),
        ({"kind": "string", "length": 0}, r"^generate\[0\]\.length: 0 is out of range; "
         r"allowed 1\.\.4096$"),
        ({"kind": "string", "alphabet": ""}, r"^generate\[0\]\.alphabet: '' is empty"),
        ({"kind": "sequence", "start": 1.5}, r"^generate\[0\]\.start: 1\.5 is not a whole number"),
        ({"kind": "uuid", "name": "run_id"}, r"^generate\[0\]\.name: 'run_id' is the run's id, "
         r"set by redline; allowed any other name$"),
    ],
)  # fmt: skip
def test_bad_generator_keys_are_refused(keys: dict[str, Any], match: str) -> None:
    refused(generator(**keys), match)


def test_duplicate_generator_names_are_refused() -> None:
    entry = {"name": "g", "kind": "uuid"}
    refused(
        plan_data(generate=[entry, entry]),
        r"^generate\[1\]\.name: 'g' is used twice; names must be unique$",
    )


def test_plan_with_data_saves_and_reloads() -> None:
    plan = plan_from_mapping(
        plan_data(
            data=[{"name": "users", "file": fixture("users.csv"), "mode": "unique"}],
            generate=[{"name": "n", "kind": "int", "min": 1, "max": 6}],
        )
    )
    again = plan_from_mapping(plan.model_dump(mode="json", exclude_unset=True))
    assert again.data == plan.data
    assert again.generate == plan.generate
