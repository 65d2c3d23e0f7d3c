"""Generators: sequences unique across workers, seeded random kinds, and the run id."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from redline.load._generate import (
    FIRST_NAMES,
    LAST_NAMES,
    RunId,
    build_generator,
    new_run_id,
)
from redline.plan import GeneratorConfig


def values(worker: int = 0, workers: int = 1, times: int = 200, **keys: Any) -> list[str]:
    cfg = GeneratorConfig.model_validate({"name": "g", **keys})
    generator = build_generator(cfg, worker=worker, workers=workers)
    out = []
    for _ in range(times):
        into: dict[str, bytes] = {}
        assert generator.fill(into)
        out.append(into["g"].decode())
    return out


def test_sequence_is_unique_across_workers() -> None:
    shares = [values(worker=i, workers=3, times=50, kind="sequence", start=10) for i in range(3)]
    assert shares[1][:3] == ["11", "14", "17"]
    every = [int(v) for share in shares for v in share]
    assert sorted(every) == list(range(10, 160))


def test_int_stays_within_min_and_max_and_reaches_both() -> None:
    drawn = {int(v) for v in values(times=500, kind="int", min=-2, max=3)}
    assert drawn == {-2, -1, 0, 1, 2, 3}


def test_string_has_its_length_and_alphabet() -> None:
    drawn = values(kind="string", length=12, alphabet="ab")
    assert all(re.fullmatch(r"[ab]{12}", v) for v in drawn)
    assert len(set(drawn)) > 150


def test_uuid_is_version_4() -> None:
    drawn = values(kind="uuid")
    assert all(uuid.UUID(v).version == 4 for v in drawn)
    assert len(set(drawn)) == len(drawn)


def test_name_is_a_first_and_a_last_name() -> None:
    for value in values(kind="name"):
        first, last = value.split(" ")
        assert first in FIRST_NAMES and last in LAST_NAMES


def test_random_kinds_repeat_per_worker_and_seed_and_differ_otherwise() -> None:
    assert values(kind="uuid") == values(kind="uuid")
    assert values(kind="uuid") != values(kind="uuid", worker=1, workers=2)
    assert values(kind="uuid") != values(kind="uuid", seed=1)


def test_run_id_is_the_same_each_iteration() -> None:
    into: dict[str, bytes] = {}
    run_id = RunId("20250101-000000-abcdef")
    assert run_id.fill(into) and run_id.fill(into)
    assert into == {"run_id": b"20250101-000000-abcdef"}


def test_new_run_id_starts_with_the_utc_time() -> None:
    made = new_run_id(datetime(2025, 6, 12, 10, 15, 30, tzinfo=UTC))
    assert re.fullmatch(r"20250612-101530-[0-9a-f]{6}", made)
    assert new_run_id() != new_run_id()
