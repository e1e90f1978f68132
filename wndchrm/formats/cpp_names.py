"""What the C++ wndchrm 1.60 names and prints: its ``.sig`` files, and the lines of ``wndchrm check``.

Both follow its source (wndchrm_src/wndchrm.cpp ``setup_featureset``, signatures.cpp ``GetFileName``,
TrainingSet.cpp ``LoadFromFilesDir``/``AddImageFile``) and were checked against the program's own output
(tests/wndchrm/fixtures/cpp/external/).
"""

from __future__ import annotations

from pathlib import Path

from wndchrm.options import Options

#: Why ``-c`` with ``-R`` is refused (here, beside the rotations, so that the submitter reads it without numpy).
COLOUR_ROTATIONS = ("wndchrm 1.60 turns only the grey image of a -R sample (ImageMatrix::Rotate) and leaves its "
                    "colour plane unset, so its colour values are whatever that memory held: nothing to reproduce")

#: The C++ program's rotations with -R: 0, 90, 180 and 270 degrees.
ROTATIONS = 4
#: The line ``wndchrm check`` prints (at its default verbosity, 2) before the images of each folder.
FOLDER_LINE = ("Processing directory '", "'")


def _preprocessing(opts: Options) -> str:
    # Block, downsampling, then normalisation: the order setup_featureset writes them in.
    name = ""
    if opts.block is not None:
        b = opts.block
        name += f"-B{b.x}_{b.y}_{b.w}_{b.h}"
    if 0 < opts.downsample < 100:
        name += f"-d{opts.downsample}"
    if opts.normalize_mean is not None:
        name += f"-S{int(opts.normalize_mean)}"
        if opts.normalize_std is not None:
            name += f"_{int(opts.normalize_std)}"
    return name


def sample_names(opts: Options) -> list[str]:
    """The sample name of every .sig file of one image, in the C++ program's order."""
    names = []
    cols, rows = opts.tile_cols, opts.tile_rows
    for rotation in range(ROTATIONS if opts.rotations else 1):
        for x in range(cols):
            for y in range(rows):
                name = _preprocessing(opts)
                if rotation:
                    name += f"-R_{rotation}"
                if cols > 1 or rows > 1:
                    name += f"-t{cols}_{x}_{y}" if cols == rows else f"-t{cols}x{rows}_{x}_{y}"
                name += "-c" if opts.color else ""
                name += "-l" if opts.long else ""
                names.append(name)
    return names


def sig_files(image: Path, opts: Options) -> list[Path]:
    """The .sig files wndchrm 1.60 writes beside ``image``: its path up to the last '.', the sample name,
    ``.sig`` (``img.tif`` with ``-t2 -l`` gives ``img-t2_0_0-l.sig`` ... ``img-t2_1_1-l.sig``)."""
    stem = image.name.rsplit(".", 1)[0] if "." in image.name else image.name
    return [image.with_name(f"{stem}{name}.sig") for name in sample_names(opts)]


def check_lines(stdout: str) -> list[str]:
    """The image paths in the stdout of ``wndchrm check``, without its folder lines and blank lines."""
    start, end = FOLDER_LINE
    return [line for line in stdout.splitlines()
            if line.strip() and not (line.startswith(start) and line.endswith(end))]
