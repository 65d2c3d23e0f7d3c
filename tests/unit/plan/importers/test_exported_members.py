"""The face of the importers package: ``__all__`` lists exactly what it offers, documented."""

from __future__ import annotations

import redline.plan._importers as importers


def test_all_names_exist_and_are_documented() -> None:
    for name in importers.__all__:
        member = getattr(importers, name)
        if callable(member) and not name.isupper():
            assert member.__doc__, f"{name} has no docstring"


def test_nothing_public_is_left_out_of_all() -> None:
    public = {
        name
        for name, member in vars(importers).items()
        if not name.startswith("_") and not type(member).__name__ == "module"
    }
    assert public == set(importers.__all__)
