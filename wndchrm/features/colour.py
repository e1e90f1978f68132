"""wndchrm 1.60's colour features (``-c``): 1,140 values from an RGB image.

They are ``Color Histogram ()`` (20 values) and the 280 values of :data:`~wndchrm.features.families.
COLOUR_FAMILIES` on four images made from the pixels' colours: ``Color Transform ()``, ``Hue ()``,
``Fourier (Hue ())`` and ``Chebyshev (Hue ())``, in that order (``addColorFeatures`` in
``src/Tasks.cpp``; the same block in the short and the long colour vectors). From wnd-charm 1.60:

- ``ImageMatrix::LoadTIFF`` (``src/cmatrix.cpp``) reads 8-bit samples as bytes; 16-bit RGB is scaled
  to bytes by the minimum and maximum over all three channels, ``(unsigned char)((v - min) * (255 /
  (max - min)))``, before anything else (as for the grey image);
- ``RGB2HSV`` (``src/cmatrix.h``) makes each pixel's hue, saturation and value bytes on a 0-240 scale;
- ``FindColor`` (``src/colors/FuzzyCalc.cpp``, :mod:`wndchrm.features.colour_rules`) classifies each
  pixel into one of 19 colours;
- ``ColorHistogram::execute`` (``src/FeatureAlgorithms.cpp``): the share of pixels of each colour
  number 0-19 (0 is never a colour, so [0] is 0);
- ``ImageMatrix::HueTransform``: a grey image of the hue bytes;
- ``ImageMatrix::ColorTransform``: a grey image of ``int(255 * colour / 19)`` -- which wndchrm 1.60
  never uses: its plans name the chain "Color Transform", the transform is registered as "Color",
  and ``FeatureNames::getTransformByName`` answers an unknown name with an identity transform. So
  every ``(Color Transform ())`` value wndchrm 1.60 writes is the ``()`` value of the grey image
  (checked on its ``.sig`` files: all 280 equal), Haralick [16] and [17] included.

Two quirks of 1.60 are reproduced by default (``as_built=True``): that identity, and the NaN light
fucia membership of its fuzzy classifier (:mod:`wndchrm.features.colour_rules`); ``as_built=False``
gives the classifier and the colour transform as their code reads.

Only RGB images have colour features: under ``-c`` wndchrm 1.60 aborts on a grey or four-sample image
(an Eigen assertion on its missing colour plane, exit status 134), so a caller should refuse those.
Tiles (``-t``) cut the hue, saturation and value planes as they cut the grey image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from wndchrm.features.colour_rules import (
    COLOURS_NUM,
    LIGHT_GREY,
    RULES,
    SATURATIONS,
    VALUES,
    hue_membership,
    hue_membership_as_built,
)
from wndchrm.features.families import COLOUR_FAMILIES, algorithm_set, algorithm_set_names

#: The colour images and their chains, in wndchrm's order.
COLOUR_IMAGES = (("Color Transform ()", "colour", ""), ("Hue ()", "hue", ""),
                 ("Fourier (Hue ())", "hue", "Fourier"), ("Chebyshev (Hue ())", "hue", "Chebyshev"))
#: ``RGB2GRAY``'s weights (``src/cmatrix.h``).
GREY_WEIGHTS = (0.2989, 0.5870, 0.1140)
HISTOGRAM_BINS = COLOURS_NUM + 1
COLOUR_FEATURE_COUNT = HISTOGRAM_BINS + sum(count for _, count in COLOUR_FAMILIES) * len(COLOUR_IMAGES)

Bytes = NDArray[np.uint8]


@dataclass(frozen=True)
class HSV:
    """Hue, saturation and value bytes of each pixel (rows x columns each), as ``RGB2HSV`` gives them."""

    hue: Bytes
    saturation: Bytes
    value: Bytes

    def crop(self, rows: slice, columns: slice) -> HSV:
        """The planes of one tile."""
        return HSV(self.hue[rows, columns], self.saturation[rows, columns], self.value[rows, columns])


def rgb_bytes(rgb: NDArray[np.floating | np.integer], bits: int) -> Bytes:
    """``LoadTIFF``'s RGB bytes: 8-bit samples as they are; 16-bit samples scaled by the minimum and
    maximum over all three channels (a single-valued image gives 0, as the C++ cast of NaN does)."""
    values = np.asarray(rgb, dtype=np.float64)
    if bits <= 8:
        return values.astype(np.uint8)
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.trunc((values - low) * (255.0 / (high - low))).astype(np.uint8)


def rgb_to_grey(rgb: Bytes) -> NDArray[np.float64]:
    """``RGB2GRAY`` of the RGB bytes: ``0.2989 r + 0.5870 g + 0.1140 b``, added left to right."""
    red, green, blue = (rgb[..., channel].astype(np.float64) for channel in range(3))
    return np.asarray(GREY_WEIGHTS[0] * red + GREY_WEIGHTS[1] * green + GREY_WEIGHTS[2] * blue, dtype=np.float64)


def rgb_to_hsv(rgb: Bytes) -> HSV:
    """``RGB2HSV`` of each pixel of a rows x columns x 3 byte image: 0-240 bytes, hue 0 where the
    saturation byte is 0."""
    channels = rgb.astype(np.float64) / 255
    red, green, blue = channels[..., 0], channels[..., 1], channels[..., 2]
    high = np.maximum(red, np.maximum(green, blue))
    delta = high - np.minimum(red, np.minimum(green, blue))
    value = np.trunc(high * 240.0).astype(np.uint8)
    with np.errstate(divide="ignore", invalid="ignore"):
        saturation = np.where(high != 0.0, np.trunc((delta / high) * 240.0), 0.0).astype(np.uint8)
        hue = np.where(red == high, (green - blue) / delta,
                       np.where(green == high, 2 + (blue - red) / delta, 4 + (red - green) / delta)) * 60.0
    hue = np.where(hue >= 360, hue - 360.0, hue)
    hue = np.where(hue < 0.0, hue + 360.0, hue)
    hue = np.where(saturation == 0, 0.0, np.trunc(np.nan_to_num(hue) * (240.0 / 360.0)))
    return HSV(hue.astype(np.uint8), saturation, value)


Table = dict[str, NDArray[np.float64]]
_LEVELS = [float(level) for level in range(256)]
_HUE_COLOURS = sorted({rule[0] for rule in RULES})
_HUE_TABLES = {
    as_built: {name: np.array([membership(name, x) for x in _LEVELS]) for name in _HUE_COLOURS}
    for as_built, membership in ((True, hue_membership_as_built), (False, hue_membership))
}
_SATURATION_TABLE: Table = {name: np.array([f(x) for x in _LEVELS]) for name, f in SATURATIONS.items()}
_VALUE_TABLE: Table = {name: np.array([f(x) for x in _LEVELS]) for name, f in VALUES.items()}


def find_colour(hsv: HSV, as_built: bool = True) -> NDArray[np.intp]:
    """``FindColor`` of each pixel: the colour number (1-19) whose rules' memberships sum highest
    (the first on a tie; light grey if none is above 0).

    Sums run rule by rule in the C++ order, each rule's membership ``(hue * saturation) * value``.
    ``as_built`` reproduces the reference build of wndchrm 1.60, whose light fucia hue membership is
    NaN where it should be 0 (:mod:`wndchrm.features.colour_rules`); a NaN sum never wins.
    """
    triples = np.stack([hsv.hue.ravel(), hsv.saturation.ravel(), hsv.value.ravel()]).astype(np.intp)
    unique, inverse = np.unique(triples, axis=1, return_inverse=True)
    hue, saturation, value = unique
    hue_table = _HUE_TABLES[as_built]
    totals = np.zeros((COLOURS_NUM + 1, unique.shape[1]))
    for hue_colour, saturation_name, value_name, colour in RULES:
        if colour:
            totals[colour] += (hue_table[hue_colour][hue] * _SATURATION_TABLE[saturation_name][saturation]
                               ) * _VALUE_TABLE[value_name][value]
    scores = np.where(np.isnan(totals[1:]), -np.inf, totals[1:])
    best = np.where(scores.max(axis=0) > 0.0, np.argmax(scores, axis=0) + 1, LIGHT_GREY)
    return np.asarray(best[inverse.ravel()].reshape(hsv.hue.shape), dtype=np.intp)


def colour_histogram(colours: NDArray[np.intp]) -> NDArray[np.float64]:
    """``ColorHistogram``: the share of pixels of each colour number 0-19."""
    counts = np.bincount(colours.ravel(), minlength=HISTOGRAM_BINS).astype(np.float64)
    return np.asarray(counts / float(colours.size), dtype=np.float64)


def colour_transform_image(colours: NDArray[np.intp]) -> NDArray[np.float64]:
    """``ColorTransform``: each pixel's colour number as the grey level ``int(255 * colour / 19)``."""
    return np.trunc((255.0 * colours) / COLOURS_NUM)


def hue_image(hsv: HSV) -> NDArray[np.float64]:
    """``HueTransform``: the hue bytes as grey levels."""
    return hsv.hue.astype(np.float64)


def colour_feature_names() -> list[str]:
    """wndchrm's names of the 1,140 colour features, in its order."""
    names = [f"Color Histogram () [{i}]" for i in range(HISTOGRAM_BINS)]
    for image_name, _, _ in COLOUR_IMAGES:
        names += algorithm_set_names(image_name)
    return names


def colour_features(hsv: HSV, grey: NDArray[np.float64], as_built: bool = True,
                    colour_transform: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """The 1,140 colour features of one image or tile (its HSV planes and its grey image, as the grey
    features see it), in :func:`colour_feature_names` order.

    ``as_built`` (the default) reproduces wndchrm 1.60: the "Color Transform" values are the grey
    image's and the classifier has its NaN light fucia; otherwise both are as their code reads.
    ``colour_transform``: the 280 "Color Transform" values when the caller has them already (as built,
    the grey image's own values of the same names), so they are not computed twice.
    """
    colours = find_colour(hsv, as_built)
    images = {"colour": grey if as_built else colour_transform_image(colours), "hue": hue_image(hsv)}
    parts = [colour_histogram(colours)]
    for _, source, chain in COLOUR_IMAGES:
        if source == "colour" and as_built and colour_transform is not None:
            parts.append(np.asarray(colour_transform, dtype=np.float64))
        else:
            parts.append(algorithm_set(images[source], chain))
    return np.concatenate(parts)
