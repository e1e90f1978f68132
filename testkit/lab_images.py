"""Images like a lab's, made by nobody here: non-square crops of photographs scikit-image bundles (CC0),
written as acquisition software writes them (RGB 8-bit, grey made 16-bit, LZW or Deflate).

Used where the engine is held against the C++ wndchrm 1.60: bench/agreement_vs_cpp.py and the
transform fixtures (tests/wndchrm/fixtures/cpp/transforms/).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile


@dataclass(frozen=True)
class LabImage:
    """A crop from the centre of a scikit-image photograph; ``wide``: 16-bit, as ``value * 257`` plus low
    bits of noise."""

    photo: str
    rows: int
    columns: int
    wide: bool
    compression: str

    @property
    def name(self) -> str:
        return f"{self.photo}_{self.rows}x{self.columns}{'_u16' if self.wide else ''}.tif"

    def pixels(self) -> np.ndarray:
        from skimage import data

        photo = np.asarray(getattr(data, self.photo)())
        top, left = (photo.shape[0] - self.rows) // 2, (photo.shape[1] - self.columns) // 2
        crop = photo[top:top + self.rows, left:left + self.columns]
        if crop.ndim == 3:
            crop = crop[..., :3]
        if self.wide:
            noise = np.random.default_rng(5).integers(0, 257, crop.shape)
            crop = (crop.astype(np.uint32) * 257 + noise).clip(0, 65535).astype(np.uint16)
        return np.ascontiguousarray(crop)

    def write(self, folder: Path) -> Path:
        """The TIFF, in a folder of its own under ``folder``."""
        pixels = self.pixels()
        path = folder / self.photo / self.name
        path.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(path, pixels, photometric="rgb" if pixels.ndim == 3 else "minisblack",
                         compression=self.compression)
        return path


#: A fundus photograph (RGB 8-bit LZW), a cell micrograph (16-bit Deflate), coins (8-bit grey LZW) and
#: an immunohistochemistry slide (RGB 16-bit LZW).
LAB_IMAGES = (
    LabImage("retina", 230, 310, False, "lzw"),
    LabImage("cell", 260, 190, True, "zlib"),
    LabImage("coins", 170, 240, False, "lzw"),
    LabImage("immunohistochemistry", 200, 150, True, "lzw"),
)
