"""The cgroup v2 files: finding the directory, counters, and the CPU quota as cores."""

from __future__ import annotations

import math
from pathlib import Path

from redline.probes._cgroup import cgroup_counters, cgroup_dir, cpu_quota_cores, parse_cpu_max


def test_cgroup_dir_is_the_unified_line_when_it_exists(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "cpu.stat").write_text("")
    assert cgroup_dir("4:memory:/x\n0::/a/b\n", tmp_path) == tmp_path / "a" / "b"
    assert cgroup_dir("0::/a\n", tmp_path) is None  # no cpu.stat: not a v2 cgroup
    assert cgroup_dir("4:memory:/x\n", tmp_path) is None  # cgroup v1 only


def test_counters_of_cpu_stat_and_memory_events(tmp_path: Path) -> None:
    (tmp_path / "cpu.stat").write_text("usage_usec 9\nnr_throttled 2\nthrottled_usec 50\n")
    assert cgroup_counters(tmp_path) == {
        "cgroup_cpu_nr_throttled": 2,
        "cgroup_cpu_throttled_usec": 50,
    }


def test_cpu_max() -> None:
    assert parse_cpu_max("max 100000") == math.inf
    assert parse_cpu_max("50000 100000") == 0.5
    assert parse_cpu_max("300000 100000") == 3.0


def test_the_tightest_quota_of_the_cgroup_and_its_ancestors(tmp_path: Path) -> None:
    leaf = tmp_path / "slice" / "server"
    leaf.mkdir(parents=True)
    assert cpu_quota_cores(leaf, tmp_path) == math.inf
    (leaf / "cpu.max").write_text("max 100000\n")
    (tmp_path / "slice" / "cpu.max").write_text("200000 100000\n")
    assert cpu_quota_cores(leaf, tmp_path) == 2.0
    (leaf / "cpu.max").write_text("150000 100000\n")
    assert cpu_quota_cores(leaf, tmp_path) == 1.5
    (tmp_path.parent / "cpu.max").write_text("10000 100000\n")  # above the root: not read
    assert cpu_quota_cores(leaf, tmp_path) == 1.5
