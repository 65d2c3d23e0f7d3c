"""redline.compare exports exactly its public face, every part documented."""

from __future__ import annotations

import redline.compare


def test_all_lists_every_public_name_once() -> None:
    exported = redline.compare.__all__
    assert len(exported) == len(set(exported))
    public = {
        name for name in vars(redline.compare) if not name.startswith("_") and name != "annotations"
    }
    assert set(exported) == public


def test_every_export_is_documented() -> None:
    for name in redline.compare.__all__:
        member = getattr(redline.compare, name)
        if callable(member) and not isinstance(member, type(int | str)):
            assert member.__doc__, name
