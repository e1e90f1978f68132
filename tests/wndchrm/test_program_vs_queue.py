"""One engine, two ways to run it: the same commands through ``wndchrm`` (in process, a local pool) and through
the queue (``wndchrm-submit -- wndchrm ...`` on a real beanstalkd and worker pool) write the same files.

Every file either writes under its data root (the ``.fit``, the ``.sig`` files of ``-m``, the feature cache,
the TSV, text, JSON and HTML reports) is compared byte for byte. The one run-specific field is the time a
report was made ("generated" in the JSON, and the HTML line that shows it), which is blanked first.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from services.kinds import builtin
from services.worker.server import stop_process
from testkit.example_data import build_textures
from tests.conftest import Beanstalkd

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COMMANDS = [
    ["train", "-m", "-l", "ex/textures", "models/t.fit"],
    ["test", "-l", "-n2", "ex/textures", "reports/t.html"],
    ["classify", "-l", "models/t.fit", "ex/textures/brick", "reports/c.html"],
    ["classify", "-l", "models/t.fit", "ex/textures/grass"],  # the default output names (wndchrm-reports/)
]
GENERATED = [re.compile(rb'"generated": "[^"]*"'), re.compile(rb"generated [0-9: -]+UTC")]

pytestmark = pytest.mark.skipif(not (BIN / "wndchrm-worker").exists() or "wndchrm" not in builtin.register_kinds(),
                                reason="no wndchrm-worker to run the queue's side")


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))  # this checkout's code
    return {**os.environ, "PYTHONPATH": path, **extra}


def _through_queue(root: Path, beanstalkd: Beanstalkd, log: Path) -> None:
    env = _env(BEANSTALKD_PORT=str(beanstalkd.port), DATA_ROOT=str(root), NUM_WORKERS="2")
    worker = subprocess.Popen([str(BIN / "wndchrm-worker"), "--log", str(log)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for command in COMMANDS:
            submit = subprocess.run([str(BIN / "wndchrm-submit"), "submit", "--wait", "--timeout", "240",
                                     "--no-progress", "--", "wndchrm", *command],
                                    env=env, capture_output=True, text=True, timeout=300)
            assert submit.returncode == 0, f"{command}: {submit.stdout}\n{submit.stderr}\n{log.read_text()}"
    finally:
        stop_process(worker, timeout=60)


def _in_process(root: Path) -> None:
    for command in COMMANDS:
        done = subprocess.run([sys.executable, "-m", "wndchrm", "--jobs", "2", *command], cwd=root, env=_env(),
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}: {done.stderr}"


def _files(root: Path) -> dict[str, bytes]:
    found = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".lock")):
        data = path.read_bytes()
        if path.suffix in (".json", ".html"):
            for pattern in GENERATED:
                data = pattern.sub(b"generated", data)
        found[path.relative_to(root).as_posix()] = data
    return found


def test_the_program_and_the_queue_write_the_same_files(beanstalkd: Beanstalkd, tmp_path: Path) -> None:
    build_textures(tmp_path / "queue" / "ex", per_class=4, size=40)  # 40x30, 16-bit, LZW
    shutil.copytree(tmp_path / "queue", tmp_path / "program")  # copy2: the same bytes and mtimes
    _through_queue(tmp_path / "queue", beanstalkd, tmp_path / "worker.log")
    _in_process(tmp_path / "program")
    queue, program = _files(tmp_path / "queue"), _files(tmp_path / "program")
    assert sorted(queue) == sorted(program)
    kinds = {Path(name).suffix for name in queue}
    assert {".fit", ".sig", ".npz", ".tsv", ".txt", ".json", ".html"} <= kinds
    assert [name for name in queue if queue[name] != program[name]] == []
