"""Small labelled TIFF datasets built from images that ship inside registry packages (no downloads).

    python -m testkit.example_data OUTDIR [--per-class N] [--size PIXELS]

- ``OUTDIR/textures/{brick,grass,gravel}/``: tiles cut from scikit-image's CC0 texture photographs
  (512x512 each), a 3-class texture set. Tiles are ``size`` wide and 3/4 of that high, 16-bit (the 8-bit
  photographs times 257) and LZW-compressed, so the set exercises what square 8-bit images hide: the
  row/column hand-over to CharmFeatures, 16-bit values and a compressed TIFF.
- ``OUTDIR/digits/{0..9}/``: scikit-learn's bundled 8x8 handwritten digits (UCI, CC BY 4.0) upsampled
  by linear interpolation, a 10-class set.
- ``OUTDIR/digits-shuffled.tsv``: the same digit images with their labels randomly permuted, a control
  that a classifier must not beat chance on. It is a ``.tsv`` dataset pointing at the digit images rather
  than a second copy of them, so their cached features are shared.

scikit-image and scikit-learn are needed only here (and in the tests), not by workers.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
from numpy.typing import NDArray
from scipy import ndimage

TEXTURES = ("brick", "grass", "gravel")
SEED = 7


@dataclass(frozen=True)
class ExampleSets:
    textures: Path
    digits: Path
    digits_shuffled: Path


def _save(path: Path, pixels: NDArray[np.uint8] | NDArray[np.uint16], compression: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, pixels, compression=compression)


def build_textures(outdir: Path, per_class: int, size: int) -> Path:
    """``per_class`` random non-overlapping tiles of each texture, ``size`` wide and ``size * 3 // 4``
    high, 16-bit, LZW-compressed."""
    from skimage import data

    rng = np.random.default_rng(SEED)
    root = outdir / "textures"
    height = size * 3 // 4
    for name in TEXTURES:
        photo = np.asarray(getattr(data, name)(), dtype=np.uint16) * 257
        grid_r, grid_c = photo.shape[0] // height, photo.shape[1] // size
        if per_class > grid_r * grid_c:
            raise ValueError(f"{name} has only {grid_r * grid_c} tiles of {size}x{height} pixels")
        for k, cell in enumerate(rng.choice(grid_r * grid_c, per_class, replace=False)):
            r, c = divmod(int(cell), grid_c)
            tile = photo[r * height : (r + 1) * height, c * size : (c + 1) * size]
            _save(root / name / f"{name}-{k:03d}.tif", tile, compression="lzw")
    return root


def build_digits(outdir: Path, per_class: int, size: int) -> Path:
    """The first ``per_class`` digits of each class, 0-16 scaled to 0-255 and upsampled to ``size``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    root = outdir / "digits"
    for label in range(10):
        for k, index in enumerate(np.flatnonzero(digits.target == label)[:per_class]):
            small = digits.images[index] * (255.0 / 16.0)
            large = ndimage.zoom(small, size / small.shape[0], order=1, mode="nearest")
            pixels = np.clip(np.rint(large), 0, 255).astype(np.uint8)
            _save(root / str(label) / f"digit{label}-{k:03d}.tif", pixels)
    return root


def build_shuffled(digits: Path, outdir: Path) -> Path:
    """A ``.tsv`` of the digit images with a random permutation of their labels."""
    images = sorted(digits.glob("*/*.tif"))
    labels = [p.parent.name for p in images]
    shuffled = np.random.default_rng(SEED).permutation(labels)
    tsv = outdir / "digits-shuffled.tsv"
    lines = ["# digit images with randomly permuted labels: a chance-level control"]
    lines += [f"{p.relative_to(outdir).as_posix()}\t{lab}" for p, lab in zip(images, shuffled, strict=True)]
    tsv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tsv


def build_examples(outdir: Path, per_class: int = 20, size: int = 64,
                   digits_per_class: int | None = None) -> ExampleSets:
    """Build all three example sets under ``outdir``."""
    outdir.mkdir(parents=True, exist_ok=True)
    textures = build_textures(outdir, per_class, size)
    digits = build_digits(outdir, digits_per_class or per_class, size)
    return ExampleSets(textures, digits, build_shuffled(digits, outdir))


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the example WND-CHARM datasets.")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--per-class", type=int, default=20, help="images per class (default 20)")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels (default 64)")
    parsed = parser.parse_args(args)
    sets = build_examples(parsed.outdir, parsed.per_class, parsed.size)
    print(f"{sets.textures}\n{sets.digits}\n{sets.digits_shuffled}")


if __name__ == "__main__":
    main()
