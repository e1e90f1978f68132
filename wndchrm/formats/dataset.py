"""Datasets as wndchrm reads them: class folders, a ``.tsv`` list, a folder of unlabelled images, one image.

- A folder whose subfolders hold images: each subfolder is a class (its name is the label). Hidden
  folders (the feature cache) are skipped; a class folder without images is an error, since wndchrm
  would silently train a class with no samples.
- A ``.tsv`` file: ``path<TAB>class`` lines (class optional), ``#`` comments, paths relative to the file.
- A folder of images with no subfolders: unlabelled images (for ``classify``).
- A single ``.tif``/``.tiff``/``.ppm`` file: one unlabelled image.

Every image path, including each ``.tsv`` line and each symlink, is confined to the data root.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from depqueue import BadJob
from wndchrm.dataroot import JobContext
from wndchrm.formats.files import is_image


@dataclass(frozen=True)
class Sample:
    """One image: its resolved path inside the data root and its class label, if labelled."""

    path: Path
    label: str | None


@dataclass(frozen=True)
class Dataset:
    source: str
    samples: tuple[Sample, ...]

    @property
    def labelled(self) -> bool:
        return all(s.label is not None for s in self.samples)

    @property
    def classes(self) -> list[str]:
        return sorted({s.label for s in self.samples if s.label is not None})


def relative(ctx: JobContext, path: Path) -> str:
    """``path`` as a data-root-relative string, the form paths travel in through the queue."""
    return path.relative_to(ctx.data_root.resolve()).as_posix()


def load_dataset(ctx: JobContext, arg: str, *, as_cpp: bool = False) -> Dataset:
    """List the images of the dataset named by ``arg``; BadJob naming what is wrong with it.

    ``as_cpp``: read a list of images as wndchrm 1.60 does, for a job a C++ binary will run: any file
    that is not an image is a list, its paths are relative to the working directory (the data root),
    and lines that are not image paths are skipped.
    """
    path = ctx.confine(arg, must_exist=True)
    if path.is_dir():
        samples = _folder(ctx, path, arg)
    elif is_image(path):
        samples = [Sample(path, None)]
    elif path.suffix.lower() == ".tsv" or (as_cpp and path.is_file()):
        samples = _tsv(ctx, path, arg, ctx.data_root if as_cpp else None)
    else:
        raise BadJob(f"dataset {arg!r} is not a folder, a .tsv file or a .tif/.tiff/.ppm image")
    if not samples:
        raise BadJob(f"dataset {arg!r} holds no .tif/.tiff/.ppm images")
    return Dataset(arg, tuple(samples))


def _images_in(ctx: JobContext, folder: Path) -> list[Path]:
    found = sorted(p for p in folder.iterdir() if is_image(p) and not p.name.startswith("."))
    return [ctx.confine(str(p), must_exist=True) for p in found]


def _folder(ctx: JobContext, path: Path, arg: str) -> list[Sample]:
    subfolders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    top_images = _images_in(ctx, path)
    if not subfolders:
        return [Sample(p, None) for p in top_images]
    if top_images:
        raise BadJob(
            f"dataset {arg!r} mixes images ({top_images[0].name!r}, ...) with class folders; "
            "put every image in a class folder"
        )
    samples: list[Sample] = []
    for folder in subfolders:
        ctx.confine(str(folder), must_exist=True)
        images = _images_in(ctx, folder)
        if not images:
            raise BadJob(f"class folder {folder.name!r} of dataset {arg!r} holds no .tif/.tiff/.ppm images")
        samples.extend(Sample(p, folder.name) for p in images)
    return samples


def _tsv(ctx: JobContext, path: Path, arg: str, base: Path | None) -> list[Sample]:
    # base: the folder relative paths start from (None: the list's own folder).
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadJob(f"dataset {arg!r} cannot be read as UTF-8 text: {exc}") from exc
    samples: list[Sample] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        name = fields[0].strip()
        label = fields[1].strip() if len(fields) > 1 and fields[1].strip() else None
        where = f"{arg}, line {number}"
        if not is_image(Path(name)):
            if base is not None:
                continue  # wndchrm 1.60 skips it, with a warning
            raise BadJob(f"{where}: {name[:200]!r} is not a .tif/.tiff/.ppm image path")
        target = Path(name) if Path(name).is_absolute() else (base or path.parent) / name
        try:
            image = ctx.confine(str(target), must_exist=True)
        except BadJob as exc:
            raise BadJob(f"{where}: {exc}") from None
        samples.append(Sample(image, label))
    return samples
