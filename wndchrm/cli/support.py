"""Which parsed wndchrm options the built-in (CharmFeatures) engine honours.

Every option of the C++ usage parses (:mod:`wndchrm.options`); one the built-in engine cannot honour is refused
when the job is submitted, with the reason, rather than silently ignored, since an ignored option gives
results the user did not ask for. A configured C++ binary receives every option unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from depqueue import BadJob
from wndchrm.formats.cpp_names import COLOUR_ROTATIONS
from wndchrm.options import Options

#: (is the option in use, the option's spelling, why the built-in engine refuses it).
#: An entry leaves this table when the engine learns the option.
REFUSED: list[tuple[Callable[[Options], bool], str, str]] = [
    (lambda o: o.color and o.rotations, "-c with -R", COLOUR_ROTATIONS),
    (lambda o: o.mrmr is not None, "-fN:M", "wndchrm's mRMR is a separate program (./mrmr) it runs on a "
     "CSV of the features; the built-in engine has no mRMR"),
]


def check_supported(options: Options) -> None:
    """BadJob naming every option in use that the built-in engine refuses, with its reason."""
    refused = [f"{spelling} ({reason})" for used, spelling, reason in REFUSED if used(options)]
    if refused:
        raise BadJob("the built-in engine cannot honour " + "; ".join(refused)
                     + "; a worker with a C++ wndchrm binary (WNDCHRM_BINARY) runs them unchanged")


#: Options a C++ wndchrm 1.60 would honour by running other programs through a shell, in the data root
#: every job shares, with words taken from the job: nothing from the queue may run a program of its choosing.
EXTERNAL_REFUSED: list[tuple[Callable[[Options], bool], str, str]] = [
    (lambda o: o.mrmr is not None, "-fN:M", "wndchrm 1.60 runs ./mrmr from its working directory (the data "
     "root) through a shell"),
    (lambda o: o.phylip_path is not None, "-pPATH", "wndchrm 1.60 runs PATH/exe/fitch and drawtree, and mv "
     "and convert, through a shell"),
    (lambda o: o.export_tsv, "-p+", "wndchrm 1.60 builds ./tsv in the data root every job shares, then copies "
     "it beside the report and deletes it with cp -r and rm -r through a shell"),
]


def check_external(options: Options) -> None:
    """BadJob naming every option in use that a configured C++ binary must not be given, with the reason."""
    refused = [f"{spelling} ({reason})" for used, spelling, reason in EXTERNAL_REFUSED if used(options)]
    if refused:
        raise BadJob("refused with a wndchrm binary: " + "; ".join(refused))
