"""Every script in bench/ runs at its smallest size, so a change that breaks a benchmark fails the build.

The benchmarks run-all runs go through ``bench/run-all --smoke``, which exits 1 when one fails or a figure
its table shows is missing. The others (they need a lab dataset, a browser or the C++ wndchrm) run here one
by one. Their C++ column is always left out here, since the C++ program takes seconds to minutes an image;
the tests check that they say so and that their own part still runs. The figures themselves are not
judged, as they swing with the machine's load; only fan-in gets a bound, a hundred times its goal, that
only a fan-in left to the sweep (10 s) would break.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import fanin_latency, run_all

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
#: Modules of bench/ that other benchmarks import and nobody runs.
HELPERS = {"_server.py"}
#: Scripts run-all leaves out, each run by a test below (lab_data.py makes lab_scale's and spread_parent's data).
STANDALONE = {"features_vs_cpp.py", "program_vs_cpp.py", "colour_vs_cpp.py", "agreement_vs_cpp.py", "lab_data.py",
              "lab_scale.py", "spread_parent.py", "report_size.py"}


def run_bench(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """A bench/ script run as a program, on this checkout's code (the workers it starts included)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, str(BENCH / args[0]), *args[1:]], capture_output=True, text=True,
                          env=env, timeout=timeout)
    assert proc.returncode == 0, f"{args[0]} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_every_script_in_bench_is_run_by_a_test() -> None:
    scripts = {path.name for path in BENCH.glob("*.py")} - HELPERS
    covered = {bench.script for bench in run_all.benches("smoke")} | {"run_all.py"} | STANDALONE
    assert not scripts - covered, (f"{sorted(scripts - covered)}: no test runs it; add it to run_all.benches "
                                   "or to STANDALONE here, with a test")
    assert not covered - scripts - {"run_all.py"}, f"no such script in bench/: {sorted(covered - scripts)}"


def test_run_all_smoke(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable}
    proc = subprocess.run([str(BENCH / "run-all"), "--smoke", "--results", str(tmp_path)], capture_output=True,
                          text=True, env=env, timeout=240)
    assert proc.returncode == 0, f"run-all exited {proc.returncode}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    assert run_all.MISSING not in proc.stdout
    fanin = json.loads((tmp_path / "fanin.json").read_text())
    assert fanin["parents"] == 20
    assert 0 < fanin["p50_ms"] < 1000, fanin


def test_run_all_fails_naming_a_failed_benchmark_and_a_missing_figure(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("import sys\nsys.exit('no samples')\n")
    partial = tmp_path / "partial.py"
    partial.write_text("import json, sys\nopen(sys.argv[-1], 'w').write(json.dumps({'p50_ms': 0.5, 'p99_ms': None}))\n")
    row = run_all.Row("fan-in latency", "p50 {p50_ms} ms, p99 {p99_ms} ms", "{parents} parents", "")
    monkeypatch.setattr(run_all, "benches", lambda size: [run_all.Bench("broken", str(broken), [], [row]),
                                                          run_all.Bench("partial", str(partial), [], [row])])
    with pytest.raises(SystemExit) as stopped:
        run_all.main(["--results", str(tmp_path / "results")])
    message = str(stopped.value.code)
    assert "broken (" in message and "no samples" in message
    assert "fan-in latency: p99_ms missing" in message and "fan-in latency: parents missing" in message
    assert "p50_ms" not in message


@pytest.mark.parametrize("figures", [{}, {"big": {}}, {"big": {"deps": None}}, {"big": {"deps": float("nan")}},
                                     {"big": {"deps": ""}}, {"big": []}])
def test_run_all_counts_absent_none_nan_and_empty_as_missing(figures: dict[str, object]) -> None:
    bench = run_all.Bench("scale", "scale.py", [], [run_all.Row("big", "{big[deps]} deps", "", "")])
    rows, missing = run_all.table(bench, figures)
    assert missing == ["big: big[deps] missing"]
    assert rows[0][1] == "MISSING deps"


def test_fan_in_figures_need_every_parent_start_and_dependency_end() -> None:
    lines = ["end 1 1000000", "end 1 3000000", "start 1 5000000", "start 1 9000000",  # a parent run twice
             "end 2 1000000", "start 2 2000000",  # one of its two dependencies' ends missing
             "end 3 1000000", "end 3 1000000",  # never started
             "end 4 1000000", "end 4 6000000", "start 4 5000000"]  # started before a dependency ended
    latencies, problems = fanin_latency.fan_in_ms(lines, [1, 2, 3, 4], deps=2)
    assert latencies == {1: 2.0}
    assert problems == ["parent 2: 1 of 2 dependency ends noted", "parent 3: no start noted",
                        "parent 4: started 1.000 ms before a dependency ended"]


def test_features_vs_cpp_runs_its_own_part_and_says_the_cpp_column_is_left_out(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = run_bench("features_vs_cpp.py", "--small", "2", "--large", "0", "--wndchrm", str(tmp_path / "no-wndchrm"),
                     "--json", str(out))
    assert f"C++ wndchrm column left out: no file {tmp_path / 'no-wndchrm'}" in proc.stdout
    figures = json.loads(out.read_text())
    assert figures["small_builtin_seconds"] > 0 and figures["efficiency"] > 0
    assert "small_cpp_seconds" not in figures


def test_program_vs_cpp_times_ours_and_says_the_cpp_column_is_left_out(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = run_bench("program_vs_cpp.py", "--images", "3", "--size", "32", "--wndchrm", str(tmp_path / "no-wndchrm"),
                     "--json", str(out))
    assert f"C++ wndchrm column left out: no file {tmp_path / 'no-wndchrm'}" in proc.stdout
    figures = json.loads(out.read_text())
    assert figures["ours_seconds"] > 0 and "cpp_seconds" not in figures


def test_colour_vs_cpp_runs_its_own_part_and_says_the_cpp_column_is_left_out(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = run_bench("colour_vs_cpp.py", "--smoke", "--wndchrm", str(tmp_path / "no-wndchrm"), "--json", str(out))
    assert f"C++ wndchrm column left out: no file {tmp_path / 'no-wndchrm'}" in proc.stdout
    figures = json.loads(out.read_text())
    assert figures["colour_long_builtin_seconds"] > 0 and figures["short_builtin_seconds"] > 0
    assert "colour_long_cpp_seconds" not in figures


def test_agreement_vs_cpp_computes_its_side_and_says_the_cpp_column_is_left_out(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = run_bench("agreement_vs_cpp.py", "--smoke", "--wndchrm", str(tmp_path / "no-wndchrm"), "--json", str(out))
    assert f"C++ wndchrm column left out: no file {tmp_path / 'no-wndchrm'}" in proc.stdout
    assert "coins_48x64.tif -l: computed here" in proc.stdout
    figures = json.loads(out.read_text())
    assert figures["seconds_here"] > 0 and "compared" not in figures


def test_lab_scale_and_spread_parent_on_a_small_lab_dataset(tmp_path: Path) -> None:
    root = tmp_path / "lab"
    run_bench("lab_data.py", str(root), "--images", "40", "--test-images", "8")
    assert (root / "ds0k.tsv").exists()  # fewer than 1,000 images: its size is 0k
    out = tmp_path / "lab.json"
    proc = run_bench("lab_scale.py", str(root), "--sizes", "0", "--wndchrm", str(tmp_path / "no-wndchrm"),
                     "--json", str(out))
    assert "C++ wndchrm rows left out" in proc.stdout
    steps = json.loads(out.read_text())
    assert len(steps) == 8 and not [name for name in steps if "C++" in name]
    proc = run_bench("spread_parent.py", str(root), "--size", "0", "--splits", "2")
    assert "spread / one parent:" in proc.stdout


def test_report_size(tmp_path: Path) -> None:
    proc = run_bench("report_size.py", "--images", "20", "--classes", "2", "--out", str(tmp_path))
    assert "size: " in proc.stdout
    assert "load in headless chromium: " in proc.stdout  # a time, or left out saying chromium is missing
