"""What the ``wndchrm`` program shows a person at a terminal: results as wndchrm 1.60 prints them, the files
written, and a progress bar while features are computed."""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from wndchrm.classifier.interpolate import c_atof
from wndchrm.cli.pool import Progress
from wndchrm.formats.dataset import Sample

#: wndchrm 1.60 prints an accuracy of C's 0/0 when nothing was scored; this is what is true instead.
NOTHING_SCORED = "none: no test image has a class of the training set, so nothing was scored"
_NAN_ACCURACY = re.compile(r"^(.*(?:Average accuracy \(\d+ splits\)|Accuracy): )-?nan( ?)$")

#: What each kind of file written holds, by suffix.
HOLDS = {".fit": "features of the dataset (the model)", ".tsv": "predictions, one line per image",
         ".txt": "the results printed above", ".json": "the report's data", ".html": "the report",
         ".htm": "the report", ".weights": "feature weights"}


def truthful(printout: str) -> str:
    """The printout with wndchrm's ``-nan`` accuracy (nothing scored) said in words; the layout is kept."""
    return "".join(_NAN_ACCURACY.sub(rf"\g<1>{NOTHING_SCORED}\g<2>", line) for line in
                   printout.splitlines(keepends=True)) if "nan" in printout else printout


def train_summary(dataset: str, samples: Sequence[Sample], per_image: int, saved: str) -> str:
    """What wndchrm 1.60 prints for ``train`` once its features are read: the dataset's summary and where
    it saved it."""
    counts = Counter(sample.label for sample in samples)
    lines = ["----------",
             f"Summary of '{dataset}' ({len(samples) * per_image} samples total, {per_image} samples per image):",
             "'Class label' (interpreted value) number of samples."]
    lines += [f"'{label}'\t({c_atof(label or ''):g})\t{counts[label] * per_image}"
              for label in sorted(counts, key=lambda c: c or "")]
    return "\n".join([*lines, "----------", f"Saved dataset to '{saved}'.", ""])


def files_written(paths: list[Path], existed: set[Path]) -> str:
    """Each file written, absolute, with what it holds; a file that was there before is said to be replaced."""
    lines = []
    for path in dict.fromkeys(paths):
        verb = "replaced" if path in existed else "wrote"
        holds = HOLDS.get(path.suffix.lower(), "")
        lines.append(f"{verb:<8} {path}" + (f"  ({holds}{'; it was there before' if path in existed else ''})"
                                             if holds else ""))
    return "\n".join(lines) + "\n" if lines else ""


@contextmanager
def feature_progress(count: int, jobs: int, stream: TextIO = sys.stderr) -> Iterator[Progress]:
    """A progress bar with rate and time left on ``stream`` when it is a terminal; otherwise one line at the end."""
    started = time.perf_counter()
    if not stream.isatty():
        yield lambda done, total: None
        elapsed = time.perf_counter() - started
        print(f"features of {count} image(s) computed in {elapsed:.1f} s on {jobs} process(es)", file=stream)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("features"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(file=stream), transient=False) as bar:
        task = bar.add_task("features", total=count, rate="")

        def advance(done: int, total: int) -> None:
            seconds = time.perf_counter() - started
            bar.update(task, completed=done, rate=f"{done / seconds:.2f} images/s" if seconds > 0 else "")

        yield advance
