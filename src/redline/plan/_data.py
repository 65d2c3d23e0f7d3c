"""Test data: ``[[data]]`` feeders (rows from a file) and ``[[generate]]`` values.

Glossary:

- *feeder*: a ``[[data]]`` entry, a CSV or JSON-lines file whose rows are handed
  out one per iteration. Each field of the row becomes the variable
  ``<feeder>.<field>`` (``${users.email}``), so two feeders never collide.
- *mode*: which row an iteration gets (:class:`FeederMode`).
- *exhausted*: a feeder in ``sequential`` or ``unique`` mode with no row left for
  this worker; ``on_exhausted`` says what then happens (:class:`OnExhausted`).
- *generator*: a ``[[generate]]`` entry, a synthetic value made anew for each
  iteration, as the variable ``<name>`` (``${order_id}``) (:class:`GeneratorKind`).
- ``run_id``: one value per run, the same in every worker, set as the variable
  ``run_id`` whenever a plan has a feeder or a generator.

A feeder's file is read while the plan is validated, so a missing file or a bad
row is a one-line :class:`~redline.errors.ConfigError` before any load starts::

    data[0].file: 'users.csv' line 4: 2 values for 3 header fields (id, email, name); ...

Example::

    [[data]]
    name = "users"
    file = "users.csv"        # relative to the plan file's directory
    mode = "unique"
    on_exhausted = "stop"

    [[generate]]
    name = "order_id"
    kind = "sequence"
"""

from __future__ import annotations

import enum
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar

from pydantic import AfterValidator, BeforeValidator, model_validator

from redline.plan._bounds import Range, Unit, whole_number_in
from redline.plan._problem import Problem, short
from redline.plan._rows import FIELD_NAME, DataFormat, format_of, read_rows
from redline.plan._section import Section

__all__ = [
    "GENERATOR_LENGTH_RANGE",
    "GENERATOR_INT_RANGE",
    "RUN_ID_VARIABLE",
    "FeederConfig",
    "FeederMode",
    "GeneratorConfig",
    "GeneratorKind",
    "OnExhausted",
    "anchor_data_files",
]

#: The variable that carries the run's id.
RUN_ID_VARIABLE = "run_id"
#: ``length`` of a ``string`` generator.
GENERATOR_LENGTH_RANGE = Range(1, 4096, Unit.COUNT)
#: ``min``, ``max`` and ``start`` of ``int`` and ``sequence`` generators (64-bit signed).
GENERATOR_INT_RANGE = Range(-(2**63), 2**63 - 1, Unit.COUNT)
#: The alphabet of a ``string`` generator when none is given.
DEFAULT_ALPHABET = string.ascii_letters + string.digits


class FeederMode(enum.StrEnum):
    """Which row of a feeder's file the next iteration of a worker gets."""

    #: Every worker reads every row, in order, from the first.
    SEQUENTIAL = "sequential"
    #: A row drawn at random (repeats allowed), seeded per worker: reproducible.
    RANDOM = "random"
    #: Every row in order, then from the first again; never runs out.
    CIRCULAR = "circular"
    #: Each row at most once in the whole run: worker i of W takes rows i, i+W, i+2W, ...
    UNIQUE = "unique"


class OnExhausted(enum.StrEnum):
    """What happens when a ``sequential`` or ``unique`` feeder has no row left."""

    #: The iteration does not start; the worker's load ends once its VUs are idle.
    STOP = "stop"
    #: Start again from the first row (not with ``unique``: a row would be used twice).
    RECYCLE = "recycle"
    #: End the run with an error naming the feeder.
    FAIL = "fail"


class GeneratorKind(enum.StrEnum):
    """What a ``[[generate]]`` entry makes, anew for each iteration."""

    #: Integers unique across workers: worker i of W gives start+i, start+i+W, ...
    SEQUENCE = "sequence"
    #: A random integer from ``min`` to ``max``, both included.
    INT = "int"
    #: ``length`` random characters from ``alphabet``.
    STRING = "string"
    #: A random (version 4) UUID.
    UUID = "uuid"
    #: "First Last" from a built-in list of common first and last names.
    NAME = "name"


#: The keys each generator kind takes, besides ``name``, ``kind`` and ``seed``.
GENERATOR_KEYS: dict[GeneratorKind, frozenset[str]] = {
    GeneratorKind.SEQUENCE: frozenset({"start"}),
    GeneratorKind.INT: frozenset({"min", "max"}),
    GeneratorKind.STRING: frozenset({"length", "alphabet"}),
    GeneratorKind.UUID: frozenset(),
    GeneratorKind.NAME: frozenset(),
}


E = TypeVar("E", bound=enum.StrEnum)
C = TypeVar("C", "FeederConfig", "GeneratorConfig")


def _one_of(kind: type[E], what: str) -> Callable[[object], object]:
    """A validator: ``raw`` must be the value of one of ``kind``'s members."""

    def validate(raw: object) -> object:
        if isinstance(raw, kind):
            return raw
        if isinstance(raw, str) and raw in kind._value2member_map_:
            return kind(raw)
        allowed = ", ".join(member.value for member in kind)
        raise Problem(f"{short(raw)} is not {what}; allowed {allowed}")

    return validate


def _variable_name(raw: object) -> object:
    if not isinstance(raw, str) or not FIELD_NAME.fullmatch(raw):
        raise Problem(
            f"{short(raw)} is not a name; allowed letters, digits and _, not starting with a digit"
        )
    return raw


Name = Annotated[str, BeforeValidator(_variable_name)]
Mode = Annotated[FeederMode, BeforeValidator(_one_of(FeederMode, "a feeder mode"))]
Exhaustion = Annotated[OnExhausted, BeforeValidator(_one_of(OnExhausted, "a policy"))]
Format = Annotated[DataFormat, BeforeValidator(_one_of(DataFormat, "a data format"))]
Kind = Annotated[GeneratorKind, BeforeValidator(_one_of(GeneratorKind, "a generator kind"))]
GeneratorInt = Annotated[int, BeforeValidator(whole_number_in(GENERATOR_INT_RANGE))]
Length = Annotated[int, BeforeValidator(whole_number_in(GENERATOR_LENGTH_RANGE))]


class FeederConfig(Section):
    """One ``[[data]]`` entry: a file of rows handed to iterations as variables.

    The file is read (and refused, with its line number, if it is bad) when the
    plan is validated; each worker reads it again when the load starts.
    """

    name: Name
    #: The file, relative to the plan file's directory (see :func:`anchor_data_files`).
    file: str
    #: ``None`` on input: the format the file's extension implies.
    format: Format | None = None
    mode: Mode = FeederMode.SEQUENTIAL
    on_exhausted: Exhaustion = OnExhausted.STOP

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.format is None:
            self.format = format_of(self.file)
            if self.format is None:
                allowed = ", ".join(DataFormat)
                raise Problem(
                    f"missing, and {short(self.file)} has no known extension "
                    f"(.csv, .jsonl, .ndjson); allowed {allowed}",
                    at=("format",),
                )
        self._check_policy()
        try:
            read_rows(self.file, self.format)
        except Problem as exc:
            raise Problem(exc.detail, at=("file",), hint=exc.hint) from None
        return self

    def _check_policy(self) -> None:
        if "on_exhausted" not in self.model_fields_set:
            return
        if self.mode in (FeederMode.RANDOM, FeederMode.CIRCULAR):
            raise Problem(
                f"{self.on_exhausted.value!r} is given with mode {self.mode.value!r}, which "
                "never runs out; allowed with modes sequential and unique",
                at=("on_exhausted",),
            )
        if self.mode is FeederMode.UNIQUE and self.on_exhausted is OnExhausted.RECYCLE:
            raise Problem(
                "'recycle' would use rows twice, which mode 'unique' forbids; "
                "allowed stop, fail (or mode 'circular' to start over)",
                at=("on_exhausted",),
            )

    @property
    def data_format(self) -> DataFormat:
        """The file's format, as given or as its extension implies."""
        assert self.format is not None  # set by the validator
        return self.format


class GeneratorConfig(Section):
    """One ``[[generate]]`` entry: a synthetic value per iteration, as ``${name}``.

    Each kind takes its own keys (:data:`GENERATOR_KEYS`); values are drawn from
    a generator seeded with the entry's name, ``seed`` and the worker's index, so
    a run makes the same values each time.
    """

    name: Name
    kind: Kind
    #: Mixed into the seed: change it to get other values from the same plan.
    seed: GeneratorInt = 0
    #: ``sequence``: the first value (of worker 0).
    start: GeneratorInt = 0
    #: ``int``: the smallest and largest value.
    min: GeneratorInt = 0
    max: GeneratorInt = 2**31 - 1
    #: ``string``: how many characters, and from which.
    length: Length = 16
    alphabet: str = DEFAULT_ALPHABET

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.name == RUN_ID_VARIABLE:
            raise Problem(
                f"{self.name!r} is the run's id, set by redline; allowed any other name",
                at=("name",),
            )
        allowed = GENERATOR_KEYS[self.kind]
        for key in sorted(self.model_fields_set - {"name", "kind", "seed"} - allowed):
            raise Problem(
                f"given with kind {self.kind.value!r}; allowed with kind "
                f"{', '.join(k.value for k, keys in GENERATOR_KEYS.items() if key in keys)}",
                at=(key,),
            )
        if self.min > self.max:
            raise Problem(f"{self.min} is above max {self.max}; allowed min <= max", at=("min",))
        if not self.alphabet:
            raise Problem("'' is empty; allowed one character or more", at=("alphabet",))
        return self


def _unique_names(entries: list[C]) -> list[C]:
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.name in seen:
            raise Problem(f"{entry.name!r} is used twice; names must be unique", at=(index, "name"))
        seen.add(entry.name)
    return entries


#: ``[[data]]``: feeders with unique names.
Feeders = Annotated[list[FeederConfig], AfterValidator(_unique_names)]
#: ``[[generate]]``: generators with unique names.
Generators = Annotated[list[GeneratorConfig], AfterValidator(_unique_names)]


def anchor_data_files(data: Mapping[str, Any], base_dir: Path) -> dict[str, Any]:
    """A plan's raw data with each relative ``[[data]]`` file joined to ``base_dir``.

    A plan file names its data files relative to its own directory; the CLI's
    flags, relative to the working directory (they are never anchored).
    Anything that is not a table with a text ``file`` is left for validation.
    """
    feeders = data.get("data")
    if not isinstance(feeders, list):
        return dict(data)
    anchored = [
        {**entry, "file": str(base_dir / entry["file"])}
        if isinstance(entry, dict)
        and isinstance(entry.get("file"), str)
        and not Path(entry["file"]).is_absolute()
        else entry
        for entry in feeders
    ]
    return {**data, "data": anchored}
