"""The CI-sized soak: at least 20 faults of mixed kinds; nothing lost, nothing corrupt."""

from __future__ import annotations

from pathlib import Path

from tests.soak.soak import run_soak


def test_soak_with_faults_loses_nothing(tmp_path: Path) -> None:
    report = run_soak(tmp_path, parents=12, deps=20, max_faults=24, max_seconds=400, seed=7, dep_seconds=0.6)
    print(report.line())
    assert report.fault_total >= 20
    assert len(report.faults) >= 3, report.faults
    assert report.lost == 0, report.line()
    assert report.corrupt_files == 0, report.line()
    assert report.completed == report.parents, report.line()
