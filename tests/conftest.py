"""Shared fixtures: a clean environment for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Remove environment variables that change redline's behaviour, and keep the
    run history of every ``redline run`` a test starts in the test's own folder."""
    for name in list(os.environ):
        if name.startswith("REDLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("REDLINE_DB", str(tmp_path / "history" / "redline.db"))
