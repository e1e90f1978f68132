"""The original's scripts (DepQueue-submit.py, wndchrm-worker.py), written against its API, run on this
project; its installer's configuration file loads; its unsafe names fail naming their replacement."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from depqueue import DepQueue, OriginalApiRemoved, QueueMain
from depqueue.config import ConfigError, load_config, load_settings
from services.common import ServiceConfig
from testkit.beanstalkd import Beanstalkd
from testkit.queue_state import park, put_deps, put_parent, write_manifest
from testkit.workers import wait_until

HERE = Path(__file__).parent
INSTALLER_FILE = HERE / "fixtures" / "wndchrm-queue.conf"

#: The lab's `wndchrm` program for this test: `check DATASET ...` lists the images without a .sig, `train ...
#: IMAGE /dev/null` writes IMAGE's .sig, `test ... DATASET REPORT` writes the .sig files it used.
PROGRAM = '''#!{python}
import pathlib, sys, time
args = sys.argv[1:]
words = [arg for arg in args[1:] if not arg.startswith("-")]
if args[0] == "check":
    for image in sorted(pathlib.Path(words[0]).rglob("*.tif")):
        if not image.with_suffix(".sig").exists():
            print(image, flush=True)
elif args[0] == "train":
    time.sleep(0.5)  # long enough for the monitoring loop to see the dependencies at work
    image = pathlib.Path(args[-2])
    image.with_suffix(".sig").write_text("features of " + image.name)
elif args[0] == "test":
    sigs = sorted(p.name for p in pathlib.Path(args[-2]).rglob("*.sig"))
    pathlib.Path(args[-1]).write_text(" ".join(sigs))
'''


def installer_file(tmp_path: Path, port: int) -> Path:
    """The original installer's file, with this test's port and log."""
    text = INSTALLER_FILE.read_text().replace("= 11300", f"= {port}")
    text = text.replace("/var/log/wndchrm-workers.log", str(tmp_path / "workers.log"))
    conf = tmp_path / "wndchrm-queue.conf"
    conf.write_text(text.replace("num_workers           = 3", "num_workers           = 2"))
    return conf


def test_the_installers_file_loads_byte_for_byte(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "wndchrm-queue.conf"
    conf.write_bytes(INSTALLER_FILE.read_bytes())
    with caplog.at_level(logging.WARNING, "depqueue.config"):
        service = load_settings(ServiceConfig, str(conf), environ={})
        library = load_config(str(conf), environ={})
    assert (service.num_workers, service.beanstalkd_host, service.beanstalkd_port, service.beanstalkd_tube) == (
        3, "localhost", 11300, "wndchrm")
    assert (service.beanstalkd_wait_retry, service.beanstalkd_retries, service.worker_log) == (
        30.0, 10, "/var/log/wndchrm-workers.log")
    assert library.beanstalkd_port == service.beanstalkd_port
    ignored = [r.getMessage() for r in caplog.records if "accepted and ignored" in r.getMessage()]
    assert len(ignored) == 2 and "'worker_host'" in ignored[0] and "'worker_pid_dir'" in ignored[1]  # once each
    monkeypatch.setattr(sys, "argv", ["lab-script.py", "-f", str(conf)])
    queue = DepQueue()
    assert (queue.host, queue.port, queue.conf["worker_PID_dir"], queue.wait_retry, queue.max_retries) == (
        "localhost", 11300, "/var/run/wndchrm", 30.0, 10)
    assert QueueMain(print, print, True).config.num_workers == 3


def test_a_role_key_is_ignored_by_the_library_and_a_misspelt_key_is_caught(tmp_path: Path,
                                                                            caplog: pytest.LogCaptureFixture) -> None:
    conf = tmp_path / "shared.conf"
    conf.write_text(INSTALLER_FILE.read_text() + "data_root = /data\nbeanstalk_port = 11301\n")
    with caplog.at_level(logging.WARNING, "depqueue.config"):
        config = load_config(str(conf), environ={}, lenient=True)  # what QueueMain() and DepQueue() read
    assert config.beanstalkd_port == 11300
    notes = " ".join(r.getMessage() for r in caplog.records)
    assert "key 'data_root' means nothing to this reader and is ignored" in notes
    assert "key 'beanstalk_port' means nothing to this reader and is ignored (did you mean 'beanstalkd_port'?)" in notes
    with pytest.raises(ConfigError, match=r"shared.conf:11: unknown key 'beanstalk_port' \(did you mean"):
        load_settings(ServiceConfig, str(conf), environ={})  # every role reads strictly


def test_unsafe_names_fail_naming_the_replacement_and_which_resolves(tmp_path: Path) -> None:
    queue = DepQueue(port=1)
    with pytest.raises(OriginalApiRemoved, match="wndchrm-submit cancel PARENT"):
        queue.clear_all()
    program = tmp_path / "wndchrm"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    assert DepQueue.which(str(program)) == str(program)
    os.environ["PATH"] = f"{tmp_path}{os.pathsep}{os.environ['PATH']}"
    try:
        assert DepQueue.which("wndchrm") == str(program)
    finally:
        os.environ["PATH"] = os.environ["PATH"].split(os.pathsep, 1)[1]
    assert DepQueue.which(str(tmp_path / "missing")) is None


def test_the_originals_submit_and_worker_scripts_run_a_job_with_dependencies(beanstalkd: Beanstalkd,
                                                                             tmp_path: Path) -> None:
    conf = installer_file(tmp_path, beanstalkd.port)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "wndchrm").write_text(PROGRAM.format(python=sys.executable))
    (bin_dir / "wndchrm").chmod(0o755)
    dataset = tmp_path / "images"
    for name in ("a/1.tif", "a/2.tif", "b/3.tif"):
        (dataset / name).parent.mkdir(parents=True, exist_ok=True)
        (dataset / name).write_bytes(b"II*\x00")
    report = tmp_path / "report.html"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(HERE.parent.parent)}
    lab = [sys.executable, str(HERE / "original_lab.py")]
    workers = subprocess.Popen([*lab, "worker", "-f", str(conf)], env=env)
    try:
        submitted = subprocess.run([*lab, "submit", "0.3", "-f", str(conf), "-c", "wndchrm", "test", "-l",
                                    str(dataset), str(report)], env=env, capture_output=True, text=True, timeout=60)
        assert submitted.returncode == 0, submitted.stderr
        wait_until(report.exists, 20, "the job to run after its dependencies")
    finally:
        workers.send_signal(signal.SIGTERM)
        assert workers.wait(30) == 0
    out = submitted.stdout
    assert f"Adding job: {bin_dir / 'wndchrm'} test -l {dataset} {report}" in out
    assert "Total workers:   2" in out
    assert re.search(r"ID: \d+ working:  \d idle:  \d deps:  3 left:  \d job: \d+", out), out
    assert "Jobs with deps:  1" in out
    assert out.rstrip().splitlines()[-2] == "Jobs left:       0"
    assert report.read_text() == "1.sig 2.sig 3.sig"  # every dependency ran before the job


def test_get_stats_sets_the_originals_attributes_and_clean_promotes_a_drained_parent(beanstalkd: Beanstalkd,
                                                                                     tmp_path: Path) -> None:
    client = beanstalkd.client()
    waiting = put_parent(client, "wndchrm", "b")
    park(client, waiting)
    put_deps(client, "wndchrm", waiting, "b", 2)
    write_manifest(client, "wndchrm", waiting, "b", 2)
    drained = put_parent(client, "wndchrm", "b")
    park(client, drained)
    write_manifest(client, "wndchrm", drained, "b", 0)
    queue = DepQueue(port=beanstalkd.port)
    queue.connect()
    stats = queue.get_stats()
    assert stats["jobs_with_deps"] == queue.jobs_with_deps == 2
    assert (queue.total_workers, queue.busy_workers, queue.idle_workers, queue.jobs_left) == (0, 0, 0, 4)
    info = queue.job_stats[str(waiting)]
    assert (info["n_deps"], info["n_deps_left"], info["working_workers"], info["idle_workers"]) == (2, 2, 0, 0)
    assert info["job"] is not None and info["job"].id == waiting
    assert (queue.job_stats[str(drained)]["n_deps"], queue.job_stats[str(drained)]["n_deps_left"]) == (0, 0)
    assert queue.standard_tubes == ["wndchrm", "wndchrm-deps", "wndchrm-ready"]
    assert queue.clean() == 1  # only the parent whose dependencies are done
    assert (queue.conn.stats_job(drained) or {})["state"] == "ready"
    assert (queue.conn.stats_job(waiting) or {})["state"] == "delayed"
    queue.conf = {"worker_log": str(tmp_path / "w.log")}
    queue.write_log("Cannot connect to beanstalk server on", "localhost", "port", 11300)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Main\[\d+\]@\S+: Cannot connect to beanstalk server on "
                        r"localhost port 11300\n", (tmp_path / "w.log").read_text())


def test_run_serves_the_queue_in_this_process(beanstalkd: Beanstalkd, tmp_path: Path) -> None:
    """``queue.run(callbacks)``, the original worker processes' loop, as a lab script may call it."""
    conf = installer_file(tmp_path, beanstalkd.port)
    done = tmp_path / "done"
    script = (f"import pathlib, sys\nfrom depqueue import DepQueue\n"
              f"def run(queue, job_id, params): pathlib.Path(params[-1]).write_text(' '.join(params[:-1]))\n"
              f"def deps(queue, dep_tube, job_id, params):\n"
              f"    if params[0] == 'parent': queue.add_dependent_job(dep_tube, ['dep', params[-1] + '.dep'])\n"
              f"    return 1 if params[0] == 'parent' else 0\n"
              f"queue = DepQueue()\nqueue.wait_connect()\nqueue.add_job(['parent', {str(done)!r}])\n"
              f"queue.run(run, deps)\n")
    serving = subprocess.Popen([sys.executable, "-c", script, "-f", str(conf)],
                               env={**os.environ, "PYTHONPATH": str(HERE.parent.parent)})
    try:
        wait_until(done.exists, 20, "the parent to run after its dependency")
    finally:
        serving.kill()
        serving.wait()
    assert done.read_text() == "parent"
    assert Path(f"{done}.dep").read_text() == "dep"
