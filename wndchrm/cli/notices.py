"""What a run should tell its user that its figures alone would hide.

wndchrm 1.60 classifies, without a word, images whose label is no class of the model (they are not
scored, so a report shows "Testing 0" and matrices of 0/0) and RGB images against a model of grey ones
(they are made grey with its weights first). Each notice here goes to the log, the JSON and the HTML report.
"""

from __future__ import annotations

from pathlib import Path

from wndchrm.classifier.experiment import Labelled
from wndchrm.dataroot import JobContext
from wndchrm.formats.files import is_model

#: Training images whose headers are read to tell a grey model from an RGB one; enough to find a mixture.
TRAINING_IMAGES_CHECKED = 100
#: Paths named in a notice, at most.
NAMED = 3


def is_rgb(path: Path) -> bool:
    """Whether an image file holds three samples per pixel (only its header is read); False if unreadable."""
    try:
        if path.suffix.lower() == ".ppm":
            with path.open("rb") as stream:
                return stream.read(2) == b"P6"
        import tifffile

        with tifffile.TiffFile(path) as tiff:
            return int(tiff.pages[0].samplesperpixel) == 3  # type: ignore[union-attr]
    except (OSError, ValueError, IndexError, AttributeError):
        return False


def _some(paths: list[str]) -> str:
    named = ", ".join(paths[:NAMED])
    return named + (f" and {len(paths) - NAMED} more" if len(paths) > NAMED else "")


def test_set_notices(ctx: JobContext, dataset: str, data: Labelled, test_set: Labelled) -> list[str]:
    """Notices about the images tested against ``data`` (the training set read from ``dataset``)."""
    notices = []
    given = test_set.given or ("",) * len(test_set.paths)
    foreign = sorted({g for g, label in zip(given, test_set.labels, strict=True) if g and label < 0})
    unscored = int((test_set.labels < 0).sum())
    if foreign:
        notices.append(f"{unscored} of {len(test_set.paths)} test images have a class the training set lacks "
                       f"({_some(foreign)}; it has {_some(list(data.classes))}): they are classified but not scored")
    elif unscored == len(test_set.paths) and unscored:
        notices.append(f"none of the {unscored} test images has a class: they are classified but not scored, so "
                       "there is no accuracy and the matrices are empty")
    if unscored == len(test_set.paths) and foreign:
        notices.append("no test image has a class of the training set: there is no accuracy and the matrices "
                       "are empty")
    rgb = [p for p in dict.fromkeys(test_set.paths) if not is_model(p) and is_rgb(ctx.data_root / p)]
    if rgb:
        trained = [] if is_model(dataset) else list(dict.fromkeys(data.paths))[:TRAINING_IMAGES_CHECKED]
        if not any(is_rgb(ctx.data_root / p) for p in trained):
            notices.append(f"{len(rgb)} test image(s) are RGB ({_some(rgb)}) but the training images are grey: "
                           "they are made grey as wndchrm does (0.2989 R + 0.5870 G + 0.1140 B), which may not "
                           "match how the training images were made grey")
    return notices
