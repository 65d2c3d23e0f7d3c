"""Synthetic values for iterations: the ``[[generate]]`` kinds, and the run's id.

Each generator belongs to one worker and writes one variable per iteration. The
random kinds draw from a generator seeded with the entry's name, its ``seed``
and the worker's index, so a run makes the same values every time it runs (and
two workers do not make the same stream).
"""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from redline.plan import RUN_ID_VARIABLE, GeneratorConfig, GeneratorKind

__all__ = ["FIRST_NAMES", "LAST_NAMES", "Generator", "RunId", "build_generator", "new_run_id"]

#: First names for the ``name`` kind. A short built-in list: no name library is a
#: dependency of redline, and test data needs plausible names, not many of them.
FIRST_NAMES = (
    "Ada", "Alan", "Alice", "Amara", "Ana", "Ben", "Carla", "Chen", "Dara", "David",
    "Elena", "Emma", "Farah", "Grace", "Hana", "Ivan", "James", "Jin", "Kofi", "Lara",
    "Leo", "Lina", "Luis", "Maya", "Mia", "Noah", "Olga", "Omar", "Priya", "Ravi",
    "Rosa", "Sam", "Sara", "Tariq", "Tom", "Uma", "Yara", "Yusuf", "Zoe", "Zhang",
)  # fmt: skip
#: Last names for the ``name`` kind.
LAST_NAMES = (
    "Adams", "Ahmed", "Baker", "Garcia", "Hansen", "Ito", "Jones", "Kim", "Kowalski", "Lee",
    "Lopez", "Martin", "Mensah", "Meyer", "Moreau", "Nakamura", "Novak", "Okafor", "Patel",
    "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Smith", "Tanaka", "Wang", "Wilson",
)  # fmt: skip


def new_run_id(now: datetime | None = None) -> str:
    """A fresh run id: the UTC start time, to sort and find by, and 6 random hex digits.

    Example::

        new_run_id()  # "20250612-101530-3fa9c2"
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


class Generator:
    """Writes one variable per iteration: ``into[name] = make()``."""

    __slots__ = ("_key", "_make")

    def __init__(self, name: str, make: Callable[[], str]) -> None:
        self._key = name
        self._make = make

    def fill(self, into: dict[str, bytes]) -> bool:
        """Set the variable to a new value; a generator never runs out."""
        into[self._key] = self._make().encode()
        return True


class RunId:
    """Writes the run's id, the same in every iteration of every worker."""

    __slots__ = ("_value",)

    def __init__(self, run_id: str) -> None:
        self._value = run_id.encode()

    def fill(self, into: dict[str, bytes]) -> bool:
        """Set ``run_id``."""
        into[RUN_ID_VARIABLE] = self._value
        return True


def _sequence(cfg: GeneratorConfig, worker: int, workers: int) -> Callable[[], str]:
    counter = iter(range(cfg.start + worker, 2**63, workers))
    return lambda: str(next(counter))


def _random_of(cfg: GeneratorConfig, worker: int) -> random.Random:
    return random.Random(f"generate/{cfg.name}/{cfg.seed}/{worker}")


def _int(cfg: GeneratorConfig, rng: random.Random) -> Callable[[], str]:
    low, high = cfg.min, cfg.max
    return lambda: str(rng.randint(low, high))


def _string(cfg: GeneratorConfig, rng: random.Random) -> Callable[[], str]:
    alphabet, length = cfg.alphabet, cfg.length
    return lambda: "".join(rng.choices(alphabet, k=length))


def _uuid(_cfg: GeneratorConfig, rng: random.Random) -> Callable[[], str]:
    return lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _name(_cfg: GeneratorConfig, rng: random.Random) -> Callable[[], str]:
    return lambda: f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


#: Makers of the random kinds, by kind.
RANDOM_KINDS: dict[GeneratorKind, Callable[[GeneratorConfig, random.Random], Callable[[], str]]] = {
    GeneratorKind.INT: _int,
    GeneratorKind.STRING: _string,
    GeneratorKind.UUID: _uuid,
    GeneratorKind.NAME: _name,
}


def build_generator(cfg: GeneratorConfig, *, worker: int, workers: int) -> Generator:
    """Worker ``worker`` of ``workers``'s generator for one ``[[generate]]`` entry."""
    if cfg.kind is GeneratorKind.SEQUENCE:
        return Generator(cfg.name, _sequence(cfg, worker, workers))
    return Generator(cfg.name, RANDOM_KINDS[cfg.kind](cfg, _random_of(cfg, worker)))
