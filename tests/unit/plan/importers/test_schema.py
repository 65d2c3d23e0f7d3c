"""Example values from JSON Schema: fixed by type, references followed, recursion bounded."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from redline.errors import ConfigError
from redline.plan._importers import MAX_SCHEMA_DEPTH
from redline.plan._importers._document import Where
from redline.plan._importers._schema import FORMAT_EXAMPLES, SchemaExamples

HERE = Where("api.yaml", ("schema",))


def value(schema: object, **components: Any) -> Any:
    document = {"components": {"schemas": components}}
    return SchemaExamples(document, source="api.yaml").value(schema, HERE)


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "integer"}, 1),
        ({"type": "number"}, 1.0),
        ({"type": "string"}, "example"),
        ({"type": "boolean"}, True),
        ({"type": "null"}, None),
        ({"type": ["null", "integer"]}, 1),
        ({"type": "string", "nullable": True}, "example"),
        ({"type": "array", "items": {"type": "integer"}}, [1]),
        ({"items": {"type": "boolean"}}, [True]),
        ({"properties": {"a": {"type": "integer"}}}, {"a": 1}),
        ({}, "example"),
        (True, "example"),
        ({"type": "string", "enum": ["red", "green"]}, "red"),
        ({"type": "integer", "enum": [7, 8], "default": 8}, 8),
        ({"type": "integer", "example": 42, "default": 8}, 42),
        ({"type": "string", "examples": ["first", "second"]}, "first"),
        ({"const": "fixed"}, "fixed"),
        ({"type": "integer", "minimum": 10}, 10),
        ({"type": "integer", "maximum": -3}, -3),
        ({"type": "integer", "minimum": 1, "exclusiveMinimum": True}, 2),
        ({"type": "integer", "exclusiveMinimum": 5}, 6),
        ({"type": "integer", "exclusiveMaximum": 0}, -1),
        ({"type": "number", "minimum": 2.5}, 2.5),
        ({"type": "string", "minLength": 10}, "examplexxx"),
        ({"type": "string", "maxLength": 3}, "exa"),
        ({"type": "array", "items": {"type": "integer"}, "minItems": 3}, [1, 1, 1]),
        ({"type": "array", "items": {"type": "integer"}, "maxItems": 0}, []),
        ({"type": "array", "items": {}, "minItems": 1000}, ["example"] * 10),
    ],
)
def test_values_by_type_and_keyword(schema: object, expected: Any) -> None:
    assert value(schema) == expected


@pytest.mark.parametrize("fmt", sorted(FORMAT_EXAMPLES))
def test_string_formats_have_fixed_values(fmt: str) -> None:
    assert value({"type": "string", "format": fmt}) == FORMAT_EXAMPLES[fmt]


def test_uuid_is_a_fixed_uuid() -> None:
    assert value({"type": "string", "format": "uuid"}) == "00000000-0000-4000-8000-000000000000"


def test_objects_hold_required_properties_without_read_only_ones() -> None:
    schema = {
        "type": "object",
        "required": ["id", "name", "extra"],
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "name": {"type": "string"},
            "age": {"type": "integer"},
        },
    }
    assert value(schema) == {"name": "example", "extra": "example"}


def test_objects_without_required_hold_every_property() -> None:
    schema = {"properties": {"a": {"type": "integer"}, "b": {"type": "boolean"}}}
    assert value(schema) == {"a": 1, "b": True}


def test_references_are_followed() -> None:
    assert value(ref("Pet"), Pet={"properties": {"tag": ref("Tag")}}, Tag={"type": "string"}) == {
        "tag": "example"
    }


def test_all_of_merges_and_one_of_takes_the_first() -> None:
    schema = {"allOf": [ref("Base"), {"properties": {"b": {"type": "integer"}}}]}
    assert value(schema, Base={"properties": {"a": {"type": "string"}}}) == {"a": "example", "b": 1}
    assert value({"oneOf": [{"type": "integer"}, {"type": "string"}]}) == 1
    assert value({"anyOf": [{"type": "boolean"}]}) is True


def test_an_optional_recursive_property_is_cut_where_it_recurs() -> None:
    node = {"properties": {"name": {"type": "string"}, "children": {"items": ref("Node")},
                           "parent": ref("Node")}}  # fmt: skip
    assert value(ref("Node"), Node=node) == {"name": "example", "children": []}


def test_a_required_recursive_property_ends_empty() -> None:
    node = {"type": "object", "required": ["next"], "properties": {"next": ref("Node")}}
    assert value(ref("Node"), Node=node) == {"next": {}}


def test_mutual_recursion_ends() -> None:
    a = {"type": "object", "required": ["b"], "properties": {"b": ref("B")}}
    b = {"type": "object", "required": ["a"], "properties": {"a": ref("A")}}
    assert value(ref("A"), A=a, B=b) == {"b": {"a": {}}}


def depth(nested: Any) -> int:
    if isinstance(nested, dict) and nested:
        return 1 + max(depth(item) for item in nested.values())
    if isinstance(nested, list) and nested:
        return 1 + max(depth(item) for item in nested)
    return 0


def test_deep_nesting_is_cut_at_the_depth_limit() -> None:
    schema: dict[str, Any] = {"type": "integer"}
    for _ in range(MAX_SCHEMA_DEPTH * 3):
        schema = {"type": "object", "required": ["x"], "properties": {"x": schema}}
    built = value(schema)
    assert depth(built) == MAX_SCHEMA_DEPTH


def test_a_yaml_alias_that_contains_itself_ends() -> None:
    text = "schema: &s\n  type: object\n  required: [self]\n  properties:\n    self: *s\n"
    schema = yaml.safe_load(text)["schema"]
    assert schema["properties"]["self"] is schema  # a real cycle in memory
    assert depth(value(schema)) == MAX_SCHEMA_DEPTH


def test_json_pointer_escapes_and_indexes() -> None:
    document = {
        "paths": {"/a/{id}": {"get": {"x": [{"type": "integer"}]}}},
        "t~n": {"type": "null"},
    }
    examples = SchemaExamples(document, source="api.yaml")
    assert examples.value({"$ref": "#/paths/~1a~1%7Bid%7D/get/x/0"}, HERE) == 1
    assert examples.value({"$ref": "#/t~0n"}, HERE) is None


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (ref("Nope"), r"^api\.yaml: schema: \$ref '#/components/schemas/Nope' points nowhere; "
                      r"the document has no components\.schemas\.Nope$"),
        ({"$ref": "#/components/schemas/List/3"}, r"document has no components\.schemas\.List\.3"),
        ({"$ref": "other.yaml#/Pet"}, r"^api\.yaml: schema: \$ref 'other\.yaml#/Pet' points out"),
        ({"$ref": 3}, r"^api\.yaml: schema\.\"\$ref\": 3 is not a string$"),
        ({"properties": {"a": "int"}}, r"^api\.yaml: schema\.properties\.a: 'int' is not an obj"),
    ],
)  # fmt: skip
def test_bad_schemas_are_one_line_naming_the_place(schema: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        value(schema, List=[{"type": "integer"}])
