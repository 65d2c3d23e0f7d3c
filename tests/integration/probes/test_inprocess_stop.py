"""A profile stopped right after its program starts is still written, marked partial."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from redline.probes import PySpyConfig, profile_command


def test_a_stop_during_start_up_waits_for_the_runner_and_keeps_a_partial_profile(
    tmp_path: Path,
) -> None:
    script = tmp_path / "app.py"
    script.write_text("import time\nwhile True:\n    sum(range(10000))\n")
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()  # before the runner has even imported
    profile = profile_command([sys.executable, str(script)], 30.0, PySpyConfig(),
                              in_process=True, stop=stop)  # fmt: skip
    assert profile.partial and "profiling was stopped early" in profile.notes
    assert profile.method == "pyinstrument"
