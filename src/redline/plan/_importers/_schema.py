"""Example values from JSON Schema (as OpenAPI 3.0 and 3.1 use it), and local ``$ref``\\ s.

A value is the schema's own ``example``, ``default``, ``const``, first ``examples``
item or first ``enum`` value when it has one; otherwise it is built from the type,
the same every time:

========  ===============================================================
type      value
========  ===============================================================
object    its required properties (all properties when none is required),
          without ``readOnly`` ones, which only responses carry
array     one item (``minItems`` when more are required)
string    ``"example"``, or a fixed value for known formats (:data:`FORMAT_EXAMPLES`)
integer   1, moved into ``minimum``..``maximum``
number    1.0, likewise
boolean   true
========  ===============================================================

``allOf`` parts are merged; ``oneOf`` and ``anyOf`` take their first choice.

Recursive schemas (a tree node whose children are tree nodes) end where a ``$ref``
would re-enter itself, and values are built at most :data:`MAX_SCHEMA_DEPTH` levels of
objects and arrays deep (a YAML alias can make a schema contain itself); what is
deeper is cut: an optional property there is left out, an array is written empty, and a
required property gets its type's empty value (``{}``, ``[]``, ``""``, 0).

Only references inside the document (``#/components/schemas/Pet``, RFC 6901 JSON
pointers) are followed; a reference to another file is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from redline.plan._importers._document import Where, expect_mapping, expect_text
from redline.plan._problem import join_path

#: Most levels of nested objects and arrays built; deeper values are cut (recursive schemas).
MAX_SCHEMA_DEPTH = 8
#: ``$ref`` hops followed to reach one object; more means references that point at each other.
MAX_REF_HOPS = 32
#: Most items written for an array whose ``minItems`` asks for many.
MAX_ARRAY_ITEMS = 10
#: The string for a schema that says nothing more than ``type: string``.
DEFAULT_STRING = "example"
#: Fixed values for string formats (RFC 3339 dates, RFC 5737 and RFC 3849 documentation
#: addresses, RFC 2606 example domains), so imported plans are the same every time.
FORMAT_EXAMPLES = {
    "uuid": "00000000-0000-4000-8000-000000000000",
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "12:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uri-reference": "/example",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "byte": "ZXhhbXBsZQ==",
    "password": "example",
}
#: What a cut value becomes where it is required.
EMPTY_VALUES: dict[str, Any] = {
    "object": {},
    "array": [],
    "string": "",
    "integer": 0,
    "number": 0,
    "boolean": False,
}
#: Keys whose value is the example itself, in order of preference.
_EXAMPLE_KEYS = ("example", "default", "const")
#: Marks a value cut by the depth limit or a recursive reference.
_CUT: Any = object()
_NOT_GIVEN: Any = object()


@dataclass(frozen=True, slots=True)
class _Trail:
    """How deep the value being built is, and the references it is inside."""

    depth: int = 0
    refs: frozenset[str] = frozenset()

    def deeper(self) -> _Trail:
        return _Trail(self.depth + 1, self.refs)

    def through(self, ref: str) -> _Trail:
        return _Trail(self.depth, self.refs | {ref})


def _given_example(schema: dict[str, Any]) -> Any:
    for key in _EXAMPLE_KEYS:
        if key in schema:
            return schema[key]
    for key in ("examples", "enum"):
        choices = schema.get(key)
        if isinstance(choices, list) and choices:
            return choices[0]
    return _NOT_GIVEN


def type_of(schema: dict[str, Any]) -> str:
    """The schema's type: the first of a 3.1 type list other than ``null``, or a guess."""
    declared = schema.get("type")
    if isinstance(declared, list):
        named = [kind for kind in declared if isinstance(kind, str) and kind != "null"]
        declared = named[0] if named else "null"
    if isinstance(declared, str):
        return declared
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    return "array" if "items" in schema else "string"


def _bounded(value: float, schema: dict[str, Any], step: float) -> float:
    low, high = schema.get("minimum"), schema.get("maximum")
    exclusive_low, exclusive_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if isinstance(exclusive_low, int | float) and not isinstance(exclusive_low, bool):
        low = exclusive_low + step  # OpenAPI 3.1: the bound itself
    elif exclusive_low is True and isinstance(low, int | float):
        low = low + step  # OpenAPI 3.0: a flag on minimum
    if isinstance(exclusive_high, int | float) and not isinstance(exclusive_high, bool):
        high = exclusive_high - step
    elif exclusive_high is True and isinstance(high, int | float):
        high = high - step
    if isinstance(low, int | float) and value < low:
        value = low
    if isinstance(high, int | float) and value > high:
        value = high
    return value


def _string(schema: dict[str, Any]) -> str:
    text = FORMAT_EXAMPLES.get(str(schema.get("format")), DEFAULT_STRING)
    shortest, longest = schema.get("minLength"), schema.get("maxLength")
    if isinstance(shortest, int) and len(text) < shortest:
        text = text.ljust(shortest, "x")
    if isinstance(longest, int) and len(text) > longest:
        text = text[:longest]
    return text


def _item_count(schema: dict[str, Any]) -> int:
    fewest, most = schema.get("minItems", 1), schema.get("maxItems", MAX_ARRAY_ITEMS)
    fewest = fewest if isinstance(fewest, int) else 1
    most = most if isinstance(most, int) else MAX_ARRAY_ITEMS
    return max(0, min(max(1, fewest), most, MAX_ARRAY_ITEMS))


class SchemaExamples:
    """Builds example values from the schemas of one document, following its ``$ref``\\ s.

    Args:
        document: the whole document (the root of every ``#/...`` reference).
        source: its name, for messages.

    Example::

        examples = SchemaExamples(document, source="api.yaml")
        examples.value({"$ref": "#/components/schemas/Pet"}, Where("api.yaml"))
        # {"id": 1, "name": "example"}
    """

    def __init__(self, document: object, *, source: str) -> None:
        self._document = document
        self._source = source

    def pointer(self, ref: str, where: Where) -> tuple[Any, Where]:
        """The object ``ref`` (``"#/components/schemas/Pet"``) points at, and where it is.

        Raises:
            ConfigError: the reference is not local or points nowhere.
        """
        if not ref.startswith("#"):
            raise where.error(
                f"$ref {ref!r} points outside this document; only '#/...' references are followed",
                hint="bundle the document and the files it references into one file",
            )
        keys: list[str | int] = []
        node = self._document
        for raw in ref[1:].split("/")[1:]:
            key = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and key in node:
                node = node[key]
                keys.append(key)
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
                keys.append(int(key))
            else:
                missing = join_path("", [*keys, key])
                raise where.error(f"$ref {ref!r} points nowhere; the document has no {missing}")
        return node, Where(self._source, tuple(keys))

    def resolve(self, node: object, where: Where) -> tuple[Any, Where]:
        """``node``, or what its ``$ref`` chain ends at, and where that is."""
        for _ in range(MAX_REF_HOPS):
            if not (isinstance(node, dict) and "$ref" in node):
                return node, where
            node, where = self.pointer(expect_text(node["$ref"], where / "$ref"), where)
        raise where.error(f"$ref chain longer than {MAX_REF_HOPS} hops; do references loop?")

    def value(self, schema: object, where: Where) -> Any:
        """An example value for ``schema`` (see the module docstring)."""
        built = self._value(schema, where, _Trail())
        return self.empty(schema, where) if built is _CUT else built

    def empty(self, schema: object, where: Where) -> Any:
        """The empty value of ``schema``'s type: ``{}``, ``[]``, ``""``, 0, false or null."""
        target, _ = self.resolve(schema, where)
        return EMPTY_VALUES.get(type_of(target)) if isinstance(target, dict) else None

    def _value(self, schema: object, where: Where, trail: _Trail) -> Any:
        if trail.depth >= MAX_SCHEMA_DEPTH:
            return _CUT
        if isinstance(schema, bool):  # 3.1: true accepts anything; false nothing
            return DEFAULT_STRING
        schema = expect_mapping(schema, where)
        given = _given_example(schema)
        if given is not _NOT_GIVEN:
            return given
        if "$ref" in schema:
            ref = expect_text(schema["$ref"], where / "$ref")
            if ref in trail.refs:
                return _CUT
            target, target_where = self.pointer(ref, where)
            return self._value(target, target_where, trail.through(ref))
        for key, combine in _COMBINATORS.items():
            if isinstance(schema.get(key), list) and schema[key]:
                return combine(self, schema[key], where / key, trail)
        build = _BY_TYPE.get(type_of(schema), _by_string)
        return build(self, schema, where, trail)

    def _all_of(self, parts: list[Any], where: Where, trail: _Trail) -> Any:
        values = [
            self._value(part, where / index, trail.deeper()) for index, part in enumerate(parts)
        ]
        kept = [value for value in values if value is not _CUT]
        if kept and all(isinstance(value, dict) for value in kept):
            return {key: item for value in kept for key, item in value.items()}
        return kept[0] if kept else _CUT

    def _first_of(self, choices: list[Any], where: Where, trail: _Trail) -> Any:
        for index, choice in enumerate(choices):
            value = self._value(choice, where / index, trail.deeper())
            if value is not _CUT:
                return value
        return _CUT

    def _object(self, schema: dict[str, Any], where: Where, trail: _Trail) -> Any:
        raw_properties = schema.get("properties", {})
        properties = raw_properties if isinstance(raw_properties, dict) else {}
        raw_required = schema.get("required")
        required = (
            [name for name in raw_required if isinstance(name, str)]
            if isinstance(raw_required, list)
            else None
        )
        wanted = required if required is not None else list(properties)
        value: dict[str, Any] = {}
        for name in wanted:
            prop = properties.get(name, {})
            if isinstance(prop, dict) and prop.get("readOnly") is True:
                continue
            prop_where = where / "properties" / name
            item = self._value(prop, prop_where, trail.deeper())
            if item is _CUT and required is None:
                continue
            value[name] = self.empty(prop, prop_where) if item is _CUT else item
        return value

    def _array(self, schema: dict[str, Any], where: Where, trail: _Trail) -> Any:
        item = self._value(schema.get("items", {}), where / "items", trail.deeper())
        return [] if item is _CUT else [item] * _item_count(schema)


def _by_string(_: SchemaExamples, schema: dict[str, Any], __: Where, ___: _Trail) -> Any:
    return _string(schema)


def _by_integer(_: SchemaExamples, schema: dict[str, Any], __: Where, ___: _Trail) -> Any:
    return int(_bounded(1, schema, step=1))


def _by_number(_: SchemaExamples, schema: dict[str, Any], __: Where, ___: _Trail) -> Any:
    return float(_bounded(1.0, schema, step=1.0))


def _by_boolean(*_: object) -> Any:
    return True


def _by_null(*_: object) -> Any:
    return None


_Builder = Callable[[SchemaExamples, dict[str, Any], Where, _Trail], Any]
#: How a value is built for each JSON Schema type.
_BY_TYPE: dict[str, _Builder] = {
    "object": SchemaExamples._object,
    "array": SchemaExamples._array,
    "string": _by_string,
    "integer": _by_integer,
    "number": _by_number,
    "boolean": _by_boolean,
    "null": _by_null,
}
_Combinator = Callable[[SchemaExamples, list[Any], Where, _Trail], Any]
#: Schema combinators, in the order they are tried.
_COMBINATORS: dict[str, _Combinator] = {
    "allOf": SchemaExamples._all_of,
    "oneOf": SchemaExamples._first_of,
    "anyOf": SchemaExamples._first_of,
}
