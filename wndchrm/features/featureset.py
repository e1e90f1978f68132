"""The feature vector wndchrm 1.60 writes for a job's options, and how one sample's is computed.

Its four vectors (``.sig`` and ``.fit`` version ``4.<type>``, ``StdFeatureComputationPlans``):

======  =============  ======  ==================================================================
 type    options        values  made of
======  =============  ======  ==================================================================
 1       (none)         1,059   CharmFeatures' short set (1,047) and Haralick [16], [17] of 6 chains
 2       ``-l``         2,919   CharmFeatures' long set (2,895) and Haralick [16], [17] of 12 chains
 3       ``-c``         2,199   type 1, then the 1,140 colour values
 4       ``-c -l``      4,059   type 2 with the 1,140 colour values after ``Gini Coefficient () [0]``
======  =============  ======  ==================================================================

Haralick [16] and [17] (the maximal correlation coefficient, which CharmFeatures' v5 vector dropped)
are computed by :mod:`wndchrm.features.haralick` on each chain's image (:mod:`wndchrm.features.transforms`);
the colour values by :mod:`wndchrm.features.colour`. Only the set asked for is computed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from wndchrm.features.colour import HSV, colour_feature_names, colour_features
from wndchrm.features.engine import get_engine
from wndchrm.features.haralick import TooFewTones, maximal_correlation_features
from wndchrm.features.transforms import CHAINS, Image, apply_chain, chain_name
from wndchrm.formats.names import DROPPED_HARALICK, names_42
from wndchrm.options import Options

#: The last grey feature before the colour block in the long colour vector (type 4).
COLOUR_AFTER = "Gini Coefficient () [0]"
#: The colour image wndchrm 1.60 names "Color Transform" but computes as the grey image (see colour.py).
COLOUR_TRANSFORM = "(Color Transform ())"


@dataclass(frozen=True)
class Tile:
    """One sample's pixels: its grey image (rows x columns) and, under ``-c``, its HSV planes."""

    grey: Image
    hsv: HSV | None = None


@dataclass(frozen=True)
class Layout:
    """Where each part of a vector goes: CharmFeatures' values, each chain's [16] and [17], the colour
    block, and (for reuse) the grey values equal to the "Color Transform" ones."""

    charm: NDArray[np.intp]
    mcc: tuple[tuple[str, int], ...]
    colour: NDArray[np.intp]
    grey_for_colour_transform: NDArray[np.intp]


@dataclass(frozen=True)
class FeatureSet:
    """wndchrm's vector for ``-l`` (``long``) and ``-c`` (``colour``)."""

    long: bool
    colour: bool

    @property
    def kind(self) -> int:
        """The vector type written after ``4.`` in ``.sig`` and ``.fit`` files (1-4)."""
        return 1 + int(self.long) + 2 * int(self.colour)

    @property
    def names(self) -> tuple[str, ...]:
        return _names(self.long, self.colour)

    @property
    def count(self) -> int:
        return len(self.names)

    def compute(self, tile: Tile) -> NDArray[np.float64]:
        """The vector of one sample. TooFewTones (naming the image it failed on) where wndchrm 1.60
        aborts: an image, a transform of it or the hue plane with fewer than three grey tones."""
        layout = _layout(self.long, self.colour)
        out = np.full(self.count, np.nan)
        out[layout.charm] = get_engine().compute(tile.grey, self.long)
        transformed: dict[str, Image] = {}
        for chain, column in layout.mcc:
            try:
                out[column:column + 2] = maximal_correlation_features(apply_chain(tile.grey, chain, transformed))
            except TooFewTones as exc:
                raise TooFewTones(f"Haralick Textures {chain_name(chain)}: {exc}") from None
        if self.colour:
            if tile.hsv is None:
                raise ValueError("a colour feature set needs the sample's HSV planes")
            reused = layout.grey_for_colour_transform
            known = out[reused] if len(reused) else None
            try:
                out[layout.colour] = colour_features(tile.hsv, tile.grey, colour_transform=known)
            except TooFewTones as exc:
                raise TooFewTones(f"colour features (hue): {exc}") from None
        return out


def feature_set(options: Options) -> FeatureSet:
    """The vector wndchrm computes for ``options``."""
    return FeatureSet(options.long, options.color)


def columns_of(smaller: FeatureSet, larger: FeatureSet) -> NDArray[np.intp] | None:
    """Where ``larger``'s vector holds each of ``smaller``'s values (short inside long), or None."""
    position = {name: i for i, name in enumerate(larger.names)}
    try:
        return np.array([position[name] for name in smaller.names], dtype=np.intp)
    except KeyError:
        return None


@functools.cache
def _names(long: bool, colour: bool) -> tuple[str, ...]:
    engine = get_engine()
    v5 = engine.names if long else tuple(engine.names[i] for i in engine.short_index)
    grey = names_42(v5)
    if not colour:
        return tuple(grey)
    at = grey.index(COLOUR_AFTER) + 1 if long else len(grey)
    return tuple(grey[:at] + colour_feature_names() + grey[at:])


@functools.cache
def _layout(long: bool, colour: bool) -> Layout:
    names = _names(long, colour)
    position = {name: i for i, name in enumerate(names)}
    engine = get_engine()
    v5 = engine.names if long else tuple(engine.names[i] for i in engine.short_index)
    charm = np.array([position[name] for name in names_42(v5) if name in position and
                      not _is_mcc(name)], dtype=np.intp)
    mcc = tuple((chain, position[_mcc_name(chain)]) for chain in CHAINS if _mcc_name(chain) in position)
    colour_names = colour_feature_names() if colour else []
    colour_columns = np.array([position[name] for name in colour_names], dtype=np.intp)
    transform_at = [i for i, name in enumerate(colour_names) if COLOUR_TRANSFORM in name]
    grey_names = [colour_names[i].replace(COLOUR_TRANSFORM, "()") for i in transform_at]
    reusable = all(name in position for name in grey_names) and bool(grey_names)
    reused = [position[name] for name in grey_names] if reusable else []
    return Layout(charm, mcc, colour_columns, np.array(reused, dtype=np.intp))


def _mcc_name(chain: str) -> str:
    return f"Haralick Textures {chain_name(chain)} [{DROPPED_HARALICK}]"


def _is_mcc(name: str) -> bool:
    return name.startswith("Haralick Textures ") and name.endswith(
        (f"[{DROPPED_HARALICK}]", f"[{DROPPED_HARALICK + 1}]"))
