"""Pace and time left of a batch's dependencies, as `wndchrm-submit --wait` and `status` show them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from depqueue import Throughput
from services.submitter.pace import BatchPace, Counts, duration
from services.submitter.report import ParentResult, print_summary
from services.submitter.waiting import ProgressView


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throughput_follows_the_last_window() -> None:
    clock = Clock()
    meter = Throughput(window=10, clock=clock)
    assert meter.rate is None and meter.seconds_left(5) is None
    for ended in range(0, 100, 2):  # 2 a second for 50 s
        meter.add(ended)
        clock.now += 1
    assert meter.rate == pytest.approx(2.0)
    for ended in range(100, 140, 8):  # then 8 a second: within a window the old pace is gone
        meter.add(ended)
        clock.now += 1
    for ended in range(140, 240, 8):
        meter.add(ended)
        clock.now += 1
    assert meter.rate == pytest.approx(8.0)
    assert meter.seconds_left(80) == pytest.approx(10.0)
    assert meter.seconds_left(0) == 0.0


def test_a_seeded_meter_has_a_pace_at_the_first_look() -> None:
    clock = Clock()
    meter = Throughput(clock=clock)
    meter.seed(0, clock.now - 20)
    meter.add(50)
    assert meter.rate == pytest.approx(2.5)


def test_finished_parents_stay_counted_so_the_batch_never_goes_backwards() -> None:
    clock = Clock()
    pace = BatchPace(clock=clock)
    ended = []
    for second in range(30):
        first = Counts(min(second * 4, 100), 0, 100)
        pace.update(1, first if second < 25 else Counts.of_outcome({"deps": 100, "failed_count": 0}, first))
        pace.update(2, Counts(max(second * 4 - 100, 0), 0, 60))
        pace.tick()
        ended.append(pace.total().ended)
        clock.now += 1
    assert ended == sorted(ended) and pace.total() == Counts(116, 0, 160)
    assert pace.batch.rate == pytest.approx(4.0)
    assert pace.batch_text() == "dependencies 116/160 done, 4/s, about 11s left"
    assert pace.parent_text(1) == "done"
    # parent 2 is served after parent 1: its time left counts what is ahead of it
    assert pace.parent_pace(2)[1] == pytest.approx(44 / 4)


def test_outcomes_count_failed_cancelled_and_lost_parents() -> None:
    last = Counts(7, 1, 20)
    assert Counts.of_outcome({"status": "failed", "deps": 20, "failed_count": 2}, last) == Counts(18, 2, 20)
    assert Counts.of_outcome({"status": "cancelled", "deps": 20, "failed_count": 0}, last) == Counts(7, 1, 8)
    assert Counts.of_outcome({"reason": "the parent left the queue"}, last) == Counts(7, 1, 8)


def test_durations_read_as_people_write_them() -> None:
    assert [duration(s) for s in (4.4, 65, 3725)] == ["4s", "1m05s", "1h02m"]


def test_plain_lines_show_the_batch_and_each_parent_pace(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    pace = BatchPace(clock=clock)
    results = [ParentResult(1, ["demo", "noop"]), ParentResult(2, ["demo", "noop"])]
    view = ProgressView(Console(), results, live=False, every=0)
    for second in range(3):
        pace.update(1, Counts(second * 10, 0, 100))
        pace.update(2, Counts(0, 0, 50))
        pace.tick()
        clock.now += 1
    view.update(results, pace, start=0)
    out = capsys.readouterr().out
    assert "dependencies 20/150 done, 10/s, about 13s left" in out
    assert "parent 1: 20/100 done, 10/s, about 8s left" in out
    assert "parent 2: 0/50 done, 0/s, about 13s left" in out


def test_live_bars_show_the_pace() -> None:
    clock = Clock()
    pace = BatchPace(clock=clock)
    results = [ParentResult(1, ["demo", "noop"])]
    out = io.StringIO()
    view = ProgressView(Console(file=out, force_terminal=True, width=150), results, live=True)
    view.states[1] = "waiting"
    for second in range(3):
        pace.update(1, Counts(second * 10, 0, 100))
        pace.tick()
        clock.now += 1
    view.update(results, pace, start=0)
    view.close()
    assert "waiting, 10/s, about 8s left" in out.getvalue()
    assert "20/100" in out.getvalue()


def test_summary_shows_accuracy_and_absolute_report_paths(tmp_path: Path) -> None:
    out = io.StringIO()
    done = ParentResult(7, ["wndchrm", "test", "pollen", "r/p.html"], "succeeded",
                        {"deps": 3, "outputs": {"report": "r/p.html", "accuracy": 0.95, "splits": 5}})
    plain = ParentResult(8, ["demo", "noop"], "succeeded", {"deps": 0})
    print_summary(Console(file=out, width=200), "b1", [done, plain], tmp_path / "data")
    text = out.getvalue()
    assert f"parent 7: accuracy 0.950 (average of 5 splits); report {tmp_path / 'data' / 'r/p.html'}" in text
    assert "parent 8:" not in text


def test_summary_names_every_file_written_and_those_replaced(tmp_path: Path) -> None:
    out = io.StringIO()
    trained = ParentResult(9, ["wndchrm", "train", "set", "m.fit"], "succeeded",
                           {"deps": 4, "outputs": {"model": "m.fit", "files": ["m.fit"], "replaced": ["m.fit"]}})
    fresh = ParentResult(10, ["wndchrm", "train", "set", "n.fit"], "succeeded",
                         {"deps": 4, "outputs": {"model": "n.fit", "files": ["n.fit"]}})
    print_summary(Console(file=out, width=200), "b2", [trained, fresh], tmp_path)
    text = out.getvalue()
    assert f"parent 9: wrote {tmp_path / 'm.fit'}" in text
    assert f"parent 9: replaced (it was there before) {tmp_path / 'm.fit'}" in text
    assert f"parent 10: wrote {tmp_path / 'n.fit'}" in text
    assert "parent 10: replaced" not in text
