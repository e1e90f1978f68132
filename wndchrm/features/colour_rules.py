"""wndchrm 1.60's fuzzy colour classifier (``src/colors/FuzzyCalc.cpp`` of wnd-charm), as data.

A pixel's hue, saturation and value (bytes, 0-240 as ``RGB2HSV`` scales them) each have membership
functions; a rule ``(hue, saturation, value) -> colour`` contributes the product of the three
memberships to its colour, and ``FindColor`` picks the colour with the largest sum (ties: the lower
colour number; no membership at all: light grey). The hue functions and the 300 rules are the
``rulesfile`` text of FuzzyCalc.cpp, transcribed in its order; the saturation and value functions are
its C functions with the constants of FuzzyCalc.h. Two rule outputs are misspelt in the C++ text
("light_gray", "ligh_fucia"): ``color2num`` maps them to colour 0, which is never scored, so those
rules count for nothing there, and here.

**What wndchrm 1.60 actually computes.** ``LoadColorsFunctions`` returns when it reaches the
``rules:`` line, before writing the end marker (colour -1) after the 11 hue functions, so
``color_value`` reads on past the 50-entry ``color_functions`` array whenever a colour's own
functions give 0 (undefined behaviour; where it stops and what it reads depend on how the binary
lays out its data). In the reference build (GCC 12.2 -O2, x86-64; ``fuzzy_rules`` lies 16 bytes after
``color_functions``) the entries it reads past the end are the rule table reinterpreted: all give 0,
except one taken as a light fucia function whose end point is the rule table's -1 end marker read as
a double, a NaN. So there light fucia's hue membership is NaN at every hue byte 1-255 where its own
functions give 0 (0 stays 0: it is below that entry's start), and each rule on the light fucia hue
adds NaN to its colour's sum, which ``FindColor``'s ``>`` then never picks: black, white, light and
dark grey, dark brown and both fucias cannot win a pixel whose hue byte is 1-200 or 230-255 (such a
pixel falls to another colour, or to the light grey default). :func:`hue_membership_as_built`
reproduces that (checked against the binary's memory and its ``.sig`` files); :func:`hue_membership`
is the classifier as written.
"""

from __future__ import annotations

import math
from collections.abc import Callable

#: Colour numbers (``COLOR_WHITE`` = 1 ... ``COLOR_LIGHT_FUCIA`` = 19); 0 is "not a colour".
COLOURS = ("white", "light_grey", "dark_grey", "black", "red", "pink", "dark_brown", "light_brown",
           "dark_orange", "light_orange", "yellow", "olive", "light_green", "dark_green", "teal", "aqua",
           "blue", "dark_fucia", "light_fucia")
COLOURS_NUM = len(COLOURS)
LIGHT_GREY = COLOURS.index("light_grey") + 1


def colour_number(name: str) -> int:
    """``color2num``: 1-19, or 0 for a name that is not a colour."""
    return COLOURS.index(name) + 1 if name in COLOURS else 0


#: ``color_functions:`` of the rules text: (hue colour, start, maximum1, maximum2, end), in order.
HUE_FUNCTIONS = (
    ("red", 0.0, 0.0, 0.0, 11.0),
    ("dark_orange", 0.0, 17.0, 17.0, 27.0),
    ("light_orange", 20.0, 27.0, 27.0, 37.0),
    ("yellow", 27.0, 39.0, 39.0, 47.0),
    ("light_green", 40.0, 50.0, 50.0, 80.0),
    ("dark_green", 50.0, 80.0, 80.0, 120.0),
    ("aqua", 80.0, 120.0, 120.0, 160.0),
    ("blue", 120.0, 160.0, 160.0, 200.0),
    ("dark_fucia", 160.0, 200.0, 200.0, 220.0),
    ("light_fucia", 200.0, 220.0, 220.0, 230.0),
    ("red", 220.0, 240.0, 240.0, 240.0),
)


def hue_membership(hue_colour: str, hue: float) -> float:
    """``color_value``: the first positive trapezoid of ``hue_colour`` at ``hue``, else 0."""
    for name, start, top1, top2, end in HUE_FUNCTIONS:
        if name != hue_colour or hue < start or hue > end:
            continue
        if top1 <= hue <= top2:
            return 1.0
        value = (hue - start) / (top1 - start) if hue < top1 else 1 - (hue - top2) / (end - top2)
        if value > 0:
            return value
    return 0.0


#: The hue colour whose membership the reference build of wndchrm 1.60 reads as NaN (see above).
NAN_HUE_COLOUR = "light_fucia"


def hue_membership_as_built(hue_colour: str, hue: float) -> float:
    """:func:`hue_membership` as the reference build of wndchrm 1.60 computes it: NaN for light fucia
    at the hue bytes 1-255 where its own functions give 0."""
    value = hue_membership(hue_colour, hue)
    return math.nan if hue_colour == NAN_HUE_COLOUR and value == 0.0 and hue >= 1 else value


def _rising_falling(start: float, top: float, end: float, top_inclusive: bool = False) -> Callable[[float], float]:
    """FuzzyCalc's triangle: 0 outside [start, end], rising to 1 at ``top``, then falling.

    ``top_inclusive``: the rising branch covers ``value == top`` (``clear_value``, ``light_value``)."""
    def membership(value: float) -> float:
        if value < start or value > end:
            return 0.0
        if value < top or (top_inclusive and value == top):
            return (value - start) / (top - start)
        return 1 - ((value - top) / (end - top))
    return membership


#: Saturation memberships (``grey_value`` ... ``clear_value``; MIN_GREY is 0, so only the range counts).
SATURATIONS: dict[str, Callable[[float], float]] = {
    "grey": _rising_falling(-0.1, 0, 40),
    "almost_grey": _rising_falling(10, 30, 70),
    "tend_grey": _rising_falling(30, 70, 120),
    "medium_grey": _rising_falling(60, 120, 180),
    "tend_clear": _rising_falling(120, 180, 240),
    "clear": _rising_falling(180, 240, 240.1, top_inclusive=True),
}
#: Value memberships (``dark_value`` ... ``light_value``; MIN_DARK is 0).
VALUES: dict[str, Callable[[float], float]] = {
    "dark": _rising_falling(-0.1, 0, 60),
    "almost_dark": _rising_falling(0, 60, 120),
    "tend_dark": _rising_falling(60, 120, 180),
    "tend_light": _rising_falling(120, 180, 240),
    "light": _rising_falling(200, 240, 240.1, top_inclusive=True),
}

_SATURATION_ORDER = ("grey", "almost_grey", "tend_grey", "medium_grey", "tend_clear", "clear")
_VALUE_ORDER = ("dark", "almost_dark", "tend_dark", "tend_light", "light")
# The rules, hue by hue: one row per saturation (in _SATURATION_ORDER), one colour per value.
_RULE_TABLE: dict[str, tuple[tuple[str, ...], ...]] = {
    "red": (
        ("black", "black", "dark_grey", "light_grey", "white"),
        ("black", "dark_grey", "dark_grey", "light_fucia", "pink"),
        ("black", "dark_brown", "dark_fucia", "pink", "pink"),
        ("black", "dark_brown", "light_brown", "light_fucia", "pink"),
        ("black", "dark_brown", "dark_brown", "red", "red"),
        ("black", "black", "red", "red", "red"),
    ),
    "dark_orange": (
        ("black", "dark_grey", "dark_grey", "light_grey", "white"),
        ("black", "dark_grey", "dark_grey", "light_grey", "white"),
        ("black", "dark_brown", "dark_grey", "light_brown", "pink"),
        ("black", "dark_brown", "dark_brown", "light_brown", "light_orange"),
        ("black", "dark_brown", "dark_brown", "light_brown", "dark_orange"),
        ("black", "dark_brown", "dark_brown", "light_brown", "dark_orange"),
    ),
    "light_orange": (
        ("black", "dark_grey", "dark_grey", "light_grey", "white"),
        ("black", "dark_grey", "dark_grey", "light_grey", "white"),
        ("black", "dark_grey", "dark_grey", "light_grey", "light_orange"),
        ("black", "dark_brown", "light_brown", "light_brown", "light_orange"),
        ("black", "dark_brown", "light_brown", "light_brown", "light_orange"),
        ("black", "dark_brown", "light_brown", "light_brown", "light_orange"),
    ),
    "yellow": (
        ("black", "dark_grey", "dark_grey", "light_grey", "white"),
        ("black", "dark_grey", "dark_grey", "light_grey", "white"),
        ("black", "dark_grey", "olive", "olive", "yellow"),
        ("black", "olive", "olive", "olive", "yellow"),
        ("black", "olive", "olive", "olive", "yellow"),
        ("black", "olive", "olive", "olive", "yellow"),
    ),
    "light_green": (
        ("black", "dark_grey", "dark_grey", "light_grey", "white"),
        ("black", "dark_grey", "dark_grey", "light_grey", "white"),
        ("black", "olive", "olive", "light_green", "light_green"),
        ("black", "dark_green", "dark_green", "light_green", "light_green"),
        ("black", "dark_green", "dark_green", "light_green", "light_green"),
        ("black", "dark_green", "dark_green", "light_green", "light_green"),
    ),
    "dark_green": (
        ("black", "dark_grey", "dark_grey", "light_grey", "white"),
        ("black", "dark_grey", "dark_grey", "light_green", "light_green"),
        ("black", "dark_green", "dark_green", "light_green", "light_green"),
        ("black", "dark_green", "dark_green", "light_green", "light_green"),
        ("black", "dark_green", "dark_green", "light_green", "light_green"),
        ("black", "dark_green", "dark_green", "light_green", "light_green"),
    ),
    "aqua": (
        ("black", "dark_grey", "dark_grey", "light_grey", "white"),
        ("black", "dark_grey", "dark_grey", "teal", "aqua"),
        ("black", "teal", "blue", "blue", "aqua"),
        ("black", "teal", "blue", "aqua", "aqua"),
        ("black", "teal", "blue", "aqua", "aqua"),
        ("black", "teal", "teal", "aqua", "aqua"),
    ),
    "blue": (
        ("black", "dark_grey", "dark_grey", "light_grey", "white"),
        ("black", "dark_grey", "light_gray", "aqua", "aqua"),
        ("black", "dark_fucia", "ligh_fucia", "light_fucia", "aqua"),
        ("black", "blue", "blue", "blue", "blue"),
        ("black", "blue", "blue", "blue", "blue"),
        ("black", "blue", "blue", "blue", "blue"),
    ),
    "dark_fucia": (
        ("black", "dark_grey", "dark_grey", "light_grey", "white"),
        ("black", "dark_grey", "dark_fucia", "light_fucia", "light_fucia"),
        ("black", "dark_fucia", "dark_fucia", "light_fucia", "light_fucia"),
        ("black", "dark_fucia", "dark_fucia", "light_fucia", "light_fucia"),
        ("black", "dark_fucia", "dark_fucia", "light_fucia", "light_fucia"),
        ("black", "dark_brown", "dark_fucia", "dark_fucia", "light_fucia"),
    ),
    "light_fucia": (
        ("black", "dark_grey", "dark_grey", "light_grey", "white"),
        ("black", "dark_grey", "light_grey", "light_fucia", "light_fucia"),
        ("black", "dark_fucia", "dark_fucia", "light_fucia", "light_fucia"),
        ("black", "dark_fucia", "dark_fucia", "light_fucia", "light_fucia"),
        ("black", "dark_brown", "dark_fucia", "light_fucia", "light_fucia"),
        ("black", "dark_brown", "dark_fucia", "dark_fucia", "light_fucia"),
    ),
}

#: The rules in the C++ text's order: (hue colour, saturation, value, colour number).
RULES = tuple(
    (hue, saturation, value, colour_number(colour))
    for hue, rows in _RULE_TABLE.items()
    for saturation, row in zip(_SATURATION_ORDER, rows, strict=True)
    for value, colour in zip(_VALUE_ORDER, row, strict=True)
)
