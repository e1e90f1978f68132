"""The end of a wait: a summary table for people and JUnit XML for CI systems."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass
class ParentResult:
    """One submitted parent and how it ended (``status`` is pending until an outcome arrives)."""

    parent: int
    argv: list[str]
    status: str = "pending"
    outcome: dict[str, Any] = field(default_factory=dict)

    @property
    def command(self) -> str:
        return " ".join(self.argv)

    @property
    def reason(self) -> str:
        return str(self.outcome.get("reason", ""))

    @property
    def report(self) -> str | None:
        """Where the job's report is (data-root-relative), if its kind said so in the outcome's outputs."""
        outputs = self.outcome.get("outputs") or {}
        report = outputs.get("report") if isinstance(outputs, dict) else None
        return str(report) if report else None

    def output_paths(self, key: str) -> list[str]:
        """The data-root-relative paths an outcome's outputs list under ``key`` (``files``, ``replaced``)."""
        outputs = self.outcome.get("outputs") or {}
        paths = outputs.get(key) if isinstance(outputs, dict) else None
        return [str(p) for p in paths] if isinstance(paths, list) else []

    @property
    def accuracy(self) -> str | None:
        """``accuracy 0.950 (5 splits)`` for a test or classify job whose outcome carries one."""
        outputs = self.outcome.get("outputs") or {}
        accuracy = outputs.get("accuracy") if isinstance(outputs, dict) else None
        if not isinstance(accuracy, (int, float)):
            return None
        splits = outputs.get("splits")
        return f"accuracy {accuracy:.3f}" + (f" (average of {splits} splits)" if isinstance(splits, int) and
                                             splits > 1 else "")

    @property
    def seconds(self) -> float:
        start, end = self.outcome.get("submitted"), self.outcome.get("finished")
        return max(0.0, float(end) - float(start)) if start and end else 0.0


def summary_table(batch: str, results: list[ParentResult]) -> Table:
    table = Table(title=f"batch {batch}", title_justify="left")
    for column in ("parent", "status", "deps", "failed deps", "seconds", "command", "reason"):
        table.add_column(column, overflow="fold")
    styles = {"succeeded": "green", "failed": "red", "timed out": "yellow", "cancelled": "yellow", "lost": "red"}
    for r in results:
        table.add_row(str(r.parent), f"[{styles.get(r.status, '')}]{r.status}", str(r.outcome.get("deps", "")),
                      str(r.outcome.get("failed_count", "")), f"{r.seconds:.1f}", r.command[:80], r.reason[:200])
    return table


def print_summary(console: Console, batch: str, results: list[ParentResult], data_root: Path | None = None) -> None:
    """The table, the counts by status, and each parent's accuracy and report; report paths are made
    absolute under ``data_root`` (outcomes carry them relative to it, which reads as relative to the
    working folder)."""
    console.print(summary_table(batch, results))
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    console.print("; ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    for r in results:
        found = [text for text in (r.accuracy, r.report and f"report {absolute(r.report, data_root)}") if text]
        if found:
            console.print(f"parent {r.parent}: {'; '.join(found)}", highlight=False, soft_wrap=True)
        for verb, key in (("wrote", "files"), ("replaced (it was there before)", "replaced")):
            paths = r.output_paths(key)
            if paths:
                console.print(f"parent {r.parent}: {verb} {', '.join(absolute(p, data_root) for p in paths)}",
                              highlight=False, soft_wrap=True)


def absolute(path: str, data_root: Path | None) -> str:
    return str(data_root.absolute() / path) if data_root is not None else path


def write_junit(path: Path, batch: str, results: list[ParentResult]) -> None:
    """One test case per parent; failures carry the reason and the failed dependencies."""
    failures = sum(r.status in ("failed", "lost") for r in results)
    errors = sum(r.status == "timed out" for r in results)
    skipped = sum(r.status == "cancelled" for r in results)
    suite = ET.Element("testsuite", name=f"wndchrm-queue batch {batch}", tests=str(len(results)),
                       failures=str(failures), errors=str(errors), skipped=str(skipped),
                       time=f"{sum(r.seconds for r in results):.3f}")
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"wndchrm-queue.{batch}",
                             name=f"{r.parent}: {r.command[:200]}", time=f"{r.seconds:.3f}")
        if r.report:  # CI servers show the property, and Jenkins links an [[ATTACHMENT|path]] line
            ET.SubElement(ET.SubElement(case, "properties"), "property", name="report", value=r.report)
        if r.status in ("failed", "lost"):
            failure = ET.SubElement(case, "failure", message=r.reason[:500] or r.status, type=r.status)
            lines = [f"dependency {d.get('dep')}: {d.get('command', '')}: {d.get('reason', '')}"
                     for d in r.outcome.get("failed_deps") or []]
            failure.text = "\n".join([r.reason, *lines])
        elif r.status == "timed out":
            ET.SubElement(case, "error", message="timed out waiting for the outcome", type="timeout")
        elif r.status == "cancelled":
            ET.SubElement(case, "skipped", message=r.reason[:500])
        if r.report:
            ET.SubElement(case, "system-out").text = f"report: {r.report}\n[[ATTACHMENT|{r.report}]]"
    path.parent.mkdir(parents=True, exist_ok=True)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
