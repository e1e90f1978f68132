"""Tube names. Per-parent tubes give per-parent counts from ``stats-tube`` for free (the seed's design)."""

from __future__ import annotations

import re

_TUBE_RE = re.compile(r"^[A-Za-z0-9+/;.$_()][A-Za-z0-9+/;.$_()-]{0,150}$")
_BATCH_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


def check_tube(name: str) -> str:
    """A main tube name that leaves room for the suffixes below within beanstalkd's 200 bytes."""
    if not _TUBE_RE.match(name):
        raise ValueError(f"invalid tube name {name!r}: letters, digits and +/;.$_()- only, "
                         "at most 151 characters, not starting with '-'")
    return name


def check_batch(batch: str) -> str:
    if not _BATCH_RE.match(batch):
        raise ValueError(f"invalid batch id {batch!r}: 1-40 letters, digits, '_', '.' or '-'")
    return batch


def deps(tube: str, parent: int) -> str:
    """Where a parent's dependencies wait; its buried manifest marks a finished expansion."""
    return f"{tube}-deps-{parent}"


def depfail(tube: str, parent: int) -> str:
    """Records of a parent's dependencies that ran out of attempts."""
    return f"{tube}-depfail-{parent}"


def outcomes(tube: str, batch: str) -> str:
    """Outcome records of a batch's parents, for the submitter to collect."""
    return f"{tube}-outcomes-{batch}"


def failed(tube: str) -> str:
    """Records of failed parents and of jobs set aside, for listing and retry."""
    return f"{tube}-failed"


def wake(tube: str) -> str:
    """Where an expander wakes idle workers (blocked in ``reserve``) to watch a new dependency tube: every
    worker watches it, and beanstalkd hands each record put there to one waiting worker."""
    return f"{tube}-wake"


def parent_of(tube: str, dep_tube: str) -> int | None:
    """The parent id in ``<tube>-deps-<id>``, or None when the name is not a dependency tube of ``tube``."""
    prefix = f"{tube}-deps-"
    if not dep_tube.startswith(prefix):
        return None
    rest = dep_tube[len(prefix):]
    return int(rest) if rest.isdigit() else None


def depfail_parent(tube: str, name: str) -> int | None:
    """The parent id in ``<tube>-depfail-<id>``, or None when ``name`` is not such a tube."""
    rest = name.removeprefix(f"{tube}-depfail-")
    return int(rest) if rest != name and rest.isdigit() else None


def group_of(tube: str, name: str) -> str | None:
    """``name`` itself for the main and failed tubes, ``<tube>-<kind>-*`` for per-parent and per-batch
    tubes, None for tubes that are not this queue's."""
    if name in (tube, failed(tube)):
        return name
    for infix in ("deps", "depfail", "outcomes"):
        if name.startswith(f"{tube}-{infix}-"):
            return f"{tube}-{infix}-*"
    return None
