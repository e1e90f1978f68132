"""Feature names of wndchrm 4.2 (the C++ program's ``.sig``/``.fit`` files) and of CharmFeatures v5.

The two vectors name the same features the same way, in the same order, except Haralick Textures: 4.2
has 28 values per image transform, v5 has 26. v5 dropped 4.2's [16] and [17] (the mean and range of the
maximal correlation coefficient), so v5's Haralick [k] for k >= 16 is 4.2's [k + 2]. That is the whole
difference (checked name by name against the C++ program's files and value by value against its
features), so a 4.2 vector has 2,919 long / 1,059 short features and a v5 vector 2,895 / 1,047.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

#: First Haralick index v5 dropped (4.2's [16] and [17]).
DROPPED_HARALICK = 16
DROPPED_COUNT = 2
#: Haralick values per transform in v5 (4.2 has two more).
HARALICK_COUNT_V5 = 26

_HARALICK = re.compile(r"^(Haralick Textures \(.*\)) \[(\d+)\]$")


def _haralick(name: str) -> tuple[str, int] | None:
    found = _HARALICK.match(name)
    return (found.group(1), int(found.group(2))) if found else None


def v5_to_42(name: str) -> str:
    """The 4.2 name of a v5 feature."""
    parts = _haralick(name)
    if parts is None or parts[1] < DROPPED_HARALICK:
        return name
    return f"{parts[0]} [{parts[1] + DROPPED_COUNT}]"


def v42_to_v5(name: str) -> str | None:
    """The v5 name of a 4.2 feature, or None for the features v5 does not have."""
    parts = _haralick(name)
    if parts is None or parts[1] < DROPPED_HARALICK:
        return name
    if parts[1] < DROPPED_HARALICK + DROPPED_COUNT:
        return None
    return f"{parts[0]} [{parts[1] - DROPPED_COUNT}]"


def is_dropped(name_42: str) -> bool:
    """True for the 4.2 features v5 does not compute (Haralick [16] and [17] of each transform)."""
    return v42_to_v5(name_42) is None


def names_42(v5_names: Sequence[str]) -> list[str]:
    """The 4.2 vector for a v5 vector: every v5 name renamed, 4.2's extra Haralick names put back."""
    out: list[str] = []
    for name in v5_names:
        parts = _haralick(name)
        if parts is not None and parts[1] == DROPPED_HARALICK:
            out += [f"{parts[0]} [{DROPPED_HARALICK + i}]" for i in range(DROPPED_COUNT)]
        out.append(v5_to_42(name))
    return out


def is_42(names: Sequence[str]) -> bool:
    """True if ``names`` is a 4.2 vector (its Haralick values run to [27]; v5's stop at [25])."""
    return any(parts[1] >= HARALICK_COUNT_V5 for parts in map(_haralick, names) if parts is not None)


def columns_in(names: Sequence[str], wanted_v5: Sequence[str]) -> NDArray[np.intp] | None:
    """Column of each ``wanted_v5`` feature inside a vector named ``names`` (v5 or 4.2 names).

    None if any wanted feature is missing, so the caller can say which set the file holds.
    """
    as_v5 = [v42_to_v5(n) for n in names] if is_42(names) else list(names)
    position: dict[str, int] = {}
    for index, name in enumerate(as_v5):
        if name is not None:
            position.setdefault(name, index)
    try:
        return np.array([position[name] for name in wanted_v5], dtype=np.intp)
    except KeyError:
        return None


def to_42(features: NDArray[np.float64], v5_names: Sequence[str]) -> tuple[list[str], NDArray[np.float64]]:
    """A v5 matrix (rows x ``v5_names``) as the 4.2 vector: its names, and 0 in the features v5 lacks."""
    names = names_42(v5_names)
    position = {v5_to_42(name): i for i, name in enumerate(v5_names)}
    columns = np.array([position.get(name, -1) for name in names], dtype=np.intp)
    return names, np.where(columns >= 0, features[..., columns], 0.0)
