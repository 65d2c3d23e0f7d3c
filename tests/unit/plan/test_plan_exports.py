"""The public face of ``redline.plan``: ``__all__`` lists exactly what the package offers."""

from __future__ import annotations

import redline.plan as plan


def test_all_names_exist_and_are_documented() -> None:
    for name in plan.__all__:
        member = getattr(plan, name)
        if callable(member) and not name.isupper():
            assert member.__doc__, f"{name} has no docstring"


def test_nothing_public_is_left_out_of_all() -> None:
    public = {name for name in vars(plan) if not name.startswith("_")}
    assert public == set(plan.__all__)
