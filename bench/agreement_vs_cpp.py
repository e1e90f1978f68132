"""How many of wndchrm's feature values agree with the C++ wndchrm 1.60's, on lab-like images made by nobody here.

    .venv/bin/python bench/agreement_vs_cpp.py [--wndchrm PATH] [--json FILE] [--smoke]

The images are testkit/lab_images.py's: non-square crops of photographs scikit-image bundles (CC0),
written as a lab's files are: a fundus photograph (``retina``, RGB 8-bit LZW), a cell micrograph
(``cell``, made 16-bit, Deflate), ``coins`` (8-bit grey LZW) and an immunohistochemistry slide (RGB made
16-bit, LZW). Each is computed with
``-l``, with ``-l -c`` (RGB), ``-t2x3``, ``-B`` and ``-d60 -S110:30`` (16-bit grey), and the RGB ones
with ``-c`` and ``-d``, ``-B``, ``-S`` and ``-t``: here, sample by
sample, and by the C++ ``wndchrm train -m`` (its ``.sig`` files). Values are compared as the tests
compare them (within 1e-4 relative, 1e-9 absolute; NaN equals NaN). Printed: values compared and
agreeing, and each feature that differs with its relative difference. Also timed, as a figure: seconds
here and there for the whole run. Without the C++ binary (``--wndchrm``, ``WNDCHRM_BINARY`` or a
``wndchrm`` on the PATH that is not this project's) only this side runs, and the output says so.
``--smoke``: one small grey image, ``-l`` only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testkit.cpp_wndchrm import cpp_wndchrm
from testkit.lab_images import LAB_IMAGES, LabImage
from wndchrm.features.featureset import feature_set
from wndchrm.features.images import load_samples
from wndchrm.formats.cpp_names import sample_names
from wndchrm.options import Options, parse

RTOL, ATOL = 1e-4, 1e-9
#: (lab image, option sets)
IMAGES = (
    (LAB_IMAGES[0], (("-l",), ("-l", "-c"), ("-t2x3",), ("-c", "-d60"), ("-l", "-c", "-B20,30,120,90"),
                     ("-c", "-S110:30"), ("-c", "-t2x2", "-d70"))),
    (LAB_IMAGES[1], (("-l",), ("-d60", "-S110:30"), ("-B20,30,120,90",))),
    (LAB_IMAGES[2], (("-l",), ("-t2x3",))),
    (LAB_IMAGES[3], (("-l", "-c"), ("-c", "-d50"), ("-c", "-B10,10,90,100", "-S100:20"))),
)
SMOKE = ((LabImage("coins", 48, 64, False, "lzw"), (("-l",),)),)


def options_of(words: tuple[str, ...]) -> Options:
    return parse(["wndchrm", "check", *words, "x"]).options


def read_sig(path: Path) -> dict[str, float]:
    lines = path.read_text().splitlines()[2:]
    return {name: float(value) for value, name in (line.split("\t", 1) for line in lines)}


def compare(image: Path, words: tuple[str, ...], cpp_folder: Path | None) -> tuple[int, list[dict[str, object]]]:
    """Values compared, and the disagreeing ones, for each sample of ``image`` under ``words``."""
    options = options_of(words)
    wanted = feature_set(options)
    names = list(wanted.names)
    compared, differing = 0, []
    stem = image.name.rsplit(".", 1)[0]
    for sample, tile in zip(sample_names(options), load_samples(image, options), strict=True):
        ours = wanted.compute(tile)
        if cpp_folder is None:
            continue
        reference = read_sig(cpp_folder / f"{stem}{sample}.sig")
        if list(reference) != names:
            raise SystemExit(f"{stem}{sample}.sig: the C++ names or their order differ from ours")
        theirs = np.array([reference[name] for name in names])
        close = np.isclose(ours, theirs, rtol=RTOL, atol=ATOL, equal_nan=True)
        compared += len(names)
        for k in np.flatnonzero(~close):
            relative = abs(ours[k] - theirs[k]) / max(abs(theirs[k]), ATOL)
            differing.append({"image": stem, "options": " ".join(words), "sample": sample, "feature": names[k],
                              "ours": float(ours[k]), "cpp": float(theirs[k]), "relative": float(relative)})
    return compared, differing


def run_cpp(wndchrm: str, image: Path, words: tuple[str, ...], scratch: Path) -> Path:
    """The C++ ``train -m`` on a folder holding only ``image``; it exits 1 even on success, so the
    ``.sig`` files tell success. Returns the folder they are in."""
    folder = scratch / f"{image.stem} {' '.join(words)}".replace(" ", "_").replace(",", "_").replace(":", "_")
    folder.mkdir()
    shutil.copy2(image, folder / image.name)
    subprocess.run([wndchrm, "train", *words, "-m", str(folder), str(scratch / f"{folder.name}.fit")],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    if not any(folder.glob("*.sig")):
        raise SystemExit(f"the C++ wndchrm wrote no .sig for {image.name} {' '.join(words)}")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wndchrm", default=cpp_wndchrm(),
                        help="the C++ wndchrm 1.60 (default: WNDCHRM_BINARY, else a wndchrm on the PATH not ours)")
    parser.add_argument("--smoke", action="store_true", help="one small grey image, -l only")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    have_cpp = bool(args.wndchrm) and Path(args.wndchrm).is_file()
    if not have_cpp:
        where = f"no file {args.wndchrm}" if args.wndchrm else "none given (WNDCHRM_BINARY, --wndchrm, PATH)"
        print(f"C++ wndchrm column left out: {where}")
    compared, differing, seconds_here, seconds_cpp = 0, [], 0.0, 0.0
    with tempfile.TemporaryDirectory() as temp:
        scratch = Path(temp)
        for lab_image, option_sets in SMOKE if args.smoke else IMAGES:
            image = lab_image.write(scratch / "images")
            for words in option_sets:
                folder = None
                if have_cpp:
                    started = time.perf_counter()
                    folder = run_cpp(args.wndchrm, image, words, scratch)
                    seconds_cpp += time.perf_counter() - started
                started = time.perf_counter()
                count, bad = compare(image, words, folder)
                seconds_here += time.perf_counter() - started
                compared, differing = compared + count, differing + bad
                print(f"{image.name} {' '.join(words)}: {count - len(bad)} of {count} agree" if have_cpp
                      else f"{image.name} {' '.join(words)}: computed here")
    for row in differing:
        print(f"  {row['image']}{row['sample']} ({row['options']}) {row['feature']}: ours {row['ours']:.8g}, "
              f"C++ {row['cpp']:.8g}, relative {row['relative']:.2e}")
    figures: dict[str, object] = {"seconds_here": round(seconds_here, 2)}
    if have_cpp:
        figures.update(compared=compared, agreeing=compared - len(differing), seconds_cpp=round(seconds_cpp, 2),
                       max_relative=max((float(row["relative"]) for row in differing), default=0.0),
                       differing=differing)
        print(f"{compared - len(differing)} of {compared} values agree within {RTOL:g} relative; "
              f"{seconds_here:.1f} s here, {seconds_cpp:.1f} s for the C++ program")
    if args.json:
        args.json.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
