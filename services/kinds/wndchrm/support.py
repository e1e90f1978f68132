"""Which parsed wndchrm options the built-in (CharmFeatures) engine honours.

Every option of the C++ usage parses (:mod:`options`); one the built-in engine cannot honour is refused
when the job is submitted, with the reason, rather than silently ignored, since an ignored option gives
results the user did not ask for. A configured C++ binary receives every option unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from depqueue.errors import BadJob
from services.kinds.wndchrm.options import Options

#: (is the option in use, the option's spelling, why the built-in engine refuses it).
#: An entry leaves this table when the engine learns the option.
REFUSED: list[tuple[Callable[[Options], bool], str, str]] = [
    (lambda o: o.save_sigs, "-m", "saving .sig files beside the images is not built in yet"),
    (lambda o: o.tile_areas, "-t#", "tile positions as separate datasets are not built in yet"),
    (lambda o: o.color, "-c", "CharmFeatures computes grey-level features only: its get_features takes "
     "no colour plane, so the colour set cannot be computed"),
    (lambda o: o.skip_sig_check, "-O", "reading existing .sig files is not built in yet"),
    (lambda o: o.mrmr is not None, "-fN:M", "mRMR feature selection is not built in yet"),
    (lambda o: o.weights_action is not None, "-v", "feature weight files are not built in yet"),
    (lambda o: o.assess, "-A", "assessing feature groups is not built in yet"),
    (lambda o: o.first_n is not None, "-q", "top-N class matching is not built in yet"),
    (lambda o: o.unbalanced, "-r#", "unbalanced training is not built in yet"),
    (lambda o: o.exact_train, "-i#", "skipping small classes is not built in yet"),
    (lambda o: o.max_classes is not None, "-N", "limiting the class count is not built in yet"),
    (lambda o: o.continuous, "-C", "continuous class values are not built in yet"),
    (lambda o: o.report, "-p", "the report options are not built in yet"),
    (lambda o: o.dataset_fit is not None, "-D", "saving the dataset's .fit is not built in yet"),
    (lambda o: o.testset_fit is not None, "-T", "saving the test set's .fit is not built in yet"),
]


def check_supported(options: Options) -> None:
    """BadJob naming every option in use that the built-in engine refuses, with its reason."""
    refused = [f"{spelling} ({reason})" for used, spelling, reason in REFUSED if used(options)]
    if refused:
        raise BadJob("the built-in engine cannot honour " + "; ".join(refused)
                     + "; a worker with a C++ wndchrm binary (WNDCHRM_BINARY) runs them unchanged")
