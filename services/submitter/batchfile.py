"""Batch files: one job per line (shell words), or a JSON or YAML list of argv lists or strings."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import yaml


class BatchFileError(ValueError):
    """A batch file that cannot be read; the message names the file and the entry."""


def _argv(entry: Any, where: str) -> list[str]:
    if isinstance(entry, dict):
        entry = entry.get("argv", entry.get("params"))
    if isinstance(entry, str):
        try:
            entry = shlex.split(entry)
        except ValueError as exc:
            raise BatchFileError(f"{where}: {exc}") from None
    if not isinstance(entry, list) or not entry or not all(isinstance(a, (str, int, float)) for a in entry):
        raise BatchFileError(f"{where}: a job must be a non-empty list of strings or a command line")
    return [str(a) for a in entry]


def read_batch_file(path: Path) -> list[list[str]]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchFileError(f"cannot read batch file {path}: {exc}") from None
    stripped = text.lstrip()
    if path.suffix in (".json", ".yaml", ".yml") or stripped.startswith(("[", "-")):
        try:
            data = json.loads(text) if path.suffix == ".json" or stripped.startswith("[") else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise BatchFileError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: "
                                 f"{str(exc).splitlines()[0]}") from None
        if not isinstance(data, list):
            raise BatchFileError(f"{path}: expected a list of jobs")
        jobs = [_argv(entry, f"{path} entry {i + 1}") for i, entry in enumerate(data)]
    else:
        jobs = [_argv(line, f"{path}:{n}") for n, line in enumerate(text.splitlines(), 1)
                if line.strip() and not line.lstrip().startswith("#")]
    if not jobs:
        raise BatchFileError(f"{path}: no jobs in the file")
    return jobs
