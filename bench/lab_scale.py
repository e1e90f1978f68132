"""A lab-scale experiment's parent work, built-in engine against the C++ wndchrm on the same .fit files.

    python bench/lab_data.py ROOT                     # once: 10,000 images with features cached
    python bench/lab_scale.py ROOT [--sizes 1 3 10] [--wndchrm PATH] [--cpp-timeout 900]

For each dataset size (thousands of images) every step runs in a process of its own, timed, with its peak
resident memory (``ru_maxrss`` from ``wait4``): expansion (``check``: which images need a dependency),
loading features (every ``.sig``), and the parent's ``train``, ``test -n5`` and ``classify`` of 1,000
images, from the dataset (``.sig`` files) and from the ``.fit`` that ``train`` wrote. The C++ program runs
``test -n5`` and ``classify`` on the same ``.fit`` files, bounded by --cpp-timeout seconds (a run cut off is
reported as such); without the C++ program (``--wndchrm``, else ``WNDCHRM_BINARY``, else ``wndchrm`` on the
PATH) its rows are left out, and said so. The load average is printed with every figure: the machine is
shared. A step of ours that fails is printed with its error, and the exit code is then 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testkit.cpp_wndchrm import cpp_wndchrm

OURS = [sys.executable, "-m", "wndchrm", "--data-root"]


def measured(cmd: list[str], cwd: Path, timeout: float | None = None, cpp: bool = False) -> dict[str, object]:
    """Wall seconds, peak RSS (MiB) and load average of one command; ``timed_out`` if it was cut off, ``error``
    if it failed (never for ``cpp``, the C++ program, which exits 1 even on success)."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = started + timeout if timeout else None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.perf_counter() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            return {"seconds": round(time.perf_counter() - started, 1), "timed_out": True, "load": round(load, 2)}
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    result: dict[str, object] = {"seconds": round(elapsed, 2), "peak_mib": round(usage.ru_maxrss / 1024, 1),
                                 "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "load": round(load, 2)}
    if code != 0 and not cpp:
        result["error"] = stderr[-400:]
    return result


def load_only(root: str, dataset: str) -> None:
    """The features a parent loads (every image's .sig), and nothing else."""
    from services.kinds import JobContext
    from wndchrm.classifier.training_data import job_vector, labelled
    from wndchrm.options import Options

    opts = Options()
    data = labelled(JobContext(Path(root)), dataset, opts, vector=job_vector([dataset], opts))
    print(len(data.paths))


def baseline() -> None:
    """Imports and the engine's names, which every step pays before its work."""
    from wndchrm.cli import runner  # noqa: F401
    from wndchrm.features.engine import get_engine

    get_engine()


def ours(root: Path, *args: str) -> list[str]:
    return [*OURS, str(root), *args]


def steps(root: Path, k: int) -> dict[str, list[str]]:
    ds, fit = f"ds{k}k.tsv", f"fits/ds{k}k.fit"
    here = [sys.executable, __file__, str(root)]
    return {
        "baseline (imports)": [*here, "--phase", "baseline"],
        "expansion (check)": ours(root, "check", ds),
        "load features (.sig)": [*here, "--phase", "load", ds],
        "train": ours(root, "train", ds, fit),
        "test -n5 (dataset)": ours(root, "test", "-n5", ds, f"reports/ds{k}k.html"),
        "test -n5 (.fit)": ours(root, "test", "-n5", fit, f"reports/ds{k}k-fit.html"),
        "classify 1k (dataset)": ours(root, "classify", ds, "test1k", f"--out=reports/ds{k}k-classify.tsv"),
        "classify 1k (.fit)": ours(root, "classify", fit, "fits/test1k.fit", f"--out=reports/ds{k}k-fc.tsv"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 3, 10], help="thousands of images")
    parser.add_argument("--wndchrm", default=cpp_wndchrm(),
                        help="the C++ wndchrm 1.60 (default: WNDCHRM_BINARY, else wndchrm on the PATH)")
    parser.add_argument("--cpp-timeout", type=float, default=900.0)
    parser.add_argument("--only", nargs="*", help="run only the steps whose names start with these")
    parser.add_argument("--phase", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = args.root.resolve()
    if args.phase:
        load_only(str(root), args.phase[1]) if args.phase[0] == "load" else baseline()
        return
    (root / "fits").mkdir(exist_ok=True)
    if not (root / "fits/test1k.fit").exists():
        measured(ours(root, "train", "test1k", "fits/test1k.fit"), root)
    cpp = args.wndchrm if args.wndchrm and Path(args.wndchrm).is_file() else None
    if cpp is None:
        where = f"no file {args.wndchrm}" if args.wndchrm else "none given (WNDCHRM_BINARY, --wndchrm, PATH)"
        print(f"C++ wndchrm rows left out: {where}")
    figures: dict[str, dict[str, object]] = {}
    for k in args.sizes:
        runs = steps(root, k)
        if cpp is not None:
            runs["C++ test -n5 (.fit)"] = [str(cpp), "test", "-n5", f"fits/ds{k}k.fit"]
            runs["C++ classify 1k (.fit)"] = [str(cpp), "classify", f"fits/ds{k}k.fit", "fits/test1k.fit"]
        for name, cmd in runs.items():
            if args.only and not any(name.startswith(o) for o in args.only) and name != "train":
                continue
            is_cpp = cmd[0] == cpp
            result = measured(cmd, root, args.cpp_timeout if is_cpp else None, cpp=is_cpp)
            figures[f"{k}k {name}"] = result
            print(f"{k:>3}k  {name:24} {json.dumps(result)}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    failed = [name for name, result in figures.items() if "error" in result]
    if failed:
        sys.exit(f"lab_scale: {len(failed)} step(s) failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
