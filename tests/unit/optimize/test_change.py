"""The Change type: what it holds, and that it survives a round trip through a dict."""

from __future__ import annotations

import dataclasses
import json

import pytest

import redline.optimize
from redline.errors import ConfigError
from redline.optimize import Change, ChangeKind

INDEX = Change(
    kind=ChangeKind.INDEX,
    summary="index public.orders (customer_id)",
    apply='CREATE INDEX CONCURRENTLY "redline_orders_customer_id_idx" ON "public"."orders" '
    '("customer_id")',
    undo='DROP INDEX CONCURRENTLY IF EXISTS "public"."redline_orders_customer_id_idx"',
    verify="SELECT indisvalid FROM pg_index WHERE indexrelid = "
    'to_regclass(\'"public"."redline_orders_customer_id_idx"\')',
    target="postgresql://app:***@127.0.0.1:5432/shop",
)


def test_the_package_exports_the_change_types() -> None:
    assert {"Change", "ChangeKind"} <= set(redline.optimize.__all__)


def test_every_kind_of_design_md_is_a_member() -> None:
    assert [k.value for k in ChangeKind] == [
        "index",
        "setting",
        "file_edit",
        "kernel_parameter",
        "test_data",
    ]


def test_a_change_round_trips_through_json() -> None:
    data = json.loads(json.dumps(INDEX.to_dict()))
    assert data["kind"] == "index"
    assert Change.from_dict(data) == INDEX


def test_a_change_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        INDEX.apply = "DROP TABLE orders"  # type: ignore[misc]


def test_an_unknown_kind_is_refused_with_the_allowed_ones() -> None:
    data = {**INDEX.to_dict(), "kind": "vibes"}
    with pytest.raises(ConfigError, match=r"change.kind: expected one of index, .*'vibes'"):
        Change.from_dict(data)


@pytest.mark.parametrize("missing", ["kind", "summary", "apply", "undo", "verify", "target"])
def test_a_missing_field_is_refused_by_name(missing: str) -> None:
    data = {k: v for k, v in INDEX.to_dict().items() if k != missing}
    with pytest.raises(ConfigError, match=rf"change.{missing}: expected a string, got None"):
        Change.from_dict(data)


def test_a_field_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"change.undo: expected a string, got 3"):
        Change.from_dict({**INDEX.to_dict(), "undo": 3})
