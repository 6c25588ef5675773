"""Real-data readers: one registered ``torch.utils.data.Dataset`` per format, all yielding ``FaceSample``.

Usage::

    from synth.data.readers import open_dataset
    ds = open_dataset("aflw2000", "/data/AFLW2000")      # any name in READERS
    sample = ds[0]                                         # a FaceSample

Every reader
    - is registered by ``@register_reader("name")`` and built by ``open_dataset(kind, root,
      **options)``;
    - holds paths and small label arrays only, and decodes an image when it is indexed
      (safe to fork into DataLoader workers);
    - converts the dataset's conventions into the project's (``synth.data.record``): pixels
      with the origin at the centre of the top-left pixel, iBUG-68 order (other schemes mapped
      by a documented table, unmapped points masked out), pose in ``synth.geometry``'s
      convention (yaw, pitch, roll degrees), masks False wherever a label is unknown.

When inputs are validated
    Labels and listings (annotation files, ``.mat``, ``.pts``, a file an annotation names
    that does not exist) are checked when the reader is built. Images are decoded at read
    time. A malformed input raises ``UserError`` naming the file (and line for text formats)
    and what was expected. With ``skip_bad=True`` each bad input is logged (one warning)
    and skipped instead: bad labels drop out of the listing at init; an image that cannot
    be decoded at read time is replaced by the next readable sample (index + 1, wrapping)
    so that ``len`` stays fixed. ``num_skipped`` counts both (per process: DataLoader
    workers count their own).

Images are read with OpenCV as RGB, ignoring EXIF orientation (labels refer to the stored
pixels).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

import numpy as np
from torch.utils.data import Dataset

from synth.data.record import FaceSample
from synth.errors import UserError
from synth.registry import registrar

__all__ = ["READERS", "FaceReader", "register_reader", "open_dataset", "read_image_rgb", "bbox_from_points"]

logger = logging.getLogger(__name__)

#: reader name -> reader class; filled by ``@register_reader``.
READERS: dict[str, type["FaceReader"]] = {}

#: Class decorator: register a ``FaceReader`` subclass under ``name`` (unique).
register_reader = registrar(READERS, "reader")


def open_dataset(kind: str, root: str | Path, **options) -> "FaceReader":
    """Build the reader registered as ``kind`` on the dataset folder ``root``.

    Raises:
        UserError: unknown ``kind`` or ``root`` not a folder (or any malformed input).
    """
    if kind not in READERS:
        raise UserError(f"unknown dataset kind {kind!r}; expected one of {sorted(READERS)}")
    return READERS[kind](root, **options)


def read_image_rgb(path: Path) -> np.ndarray:
    """Decode an image file as (H, W, 3) uint8 RGB, EXIF orientation ignored.

    Raises:
        UserError: the file is missing or cannot be decoded.
    """
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None:
        what = "does not exist" if not Path(path).exists() else "cannot be decoded"
        raise UserError(f"{path}: image {what}; expected a readable JPEG/PNG/BMP/WebP file")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)  # (numpy's copy of img[:, :, ::-1] is ~30x slower)


def bbox_from_points(points_px: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Tight box (4,) float32 x0, y0, x1, y1 of the (valid rows of) (K, 2) points, pixels."""
    pts = np.asarray(points_px, np.float64)
    if valid is not None:
        pts = pts[np.asarray(valid, bool)]
    if len(pts) == 0:
        return np.zeros(4, np.float32)
    return np.concatenate([pts.min(0), pts.max(0)]).astype(np.float32)


class FaceReader(Dataset):
    """Base class: a list of labelled items, an image decoded per ``__getitem__``.

    Subclasses fill ``self._items`` (one entry per sample, anything small and picklable)
    in ``__init__`` (calling ``self._bad(msg)`` for each malformed input) and implement
    ``_load(i) -> FaceSample``.

    Attributes:
        root: the dataset folder.
        skip_bad: log and skip malformed inputs instead of raising ``UserError``.
        num_skipped: how many inputs were skipped (listing + reads in this process).
    """

    source: ClassVar[str] = ""

    def __init__(self, root: str | Path, *, skip_bad: bool = False) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise UserError(f"{self.root}: dataset folder does not exist (expected the unpacked {self.source or 'dataset'} folder)")
        self.skip_bad = bool(skip_bad)
        self.num_skipped = 0
        self._items: list = []
        self._unreadable: set[int] = set()  # indices whose image failed (skip_bad), not retried

    # -- to implement ---------------------------------------------------------------
    def _load(self, i: int) -> FaceSample:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------
    def _bad(self, message: str) -> None:
        """Report one malformed input: raise ``UserError``, or log and count it with skip_bad."""
        if not self.skip_bad:
            raise UserError(message)
        logger.warning("skipping: %s", message)
        self.num_skipped += 1

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: int) -> FaceSample:
        n = len(self)
        if not -n <= int(i) < n:
            raise IndexError(f"index {i} out of range for {type(self).__name__} of length {n}")
        i = int(i) % n
        for k in range(n):
            j = (i + k) % n
            if j in self._unreadable:
                continue
            try:
                return self._load(j)
            except UserError as e:
                if not self.skip_bad:
                    raise
                logger.warning("skipping: %s", e)
                self._unreadable.add(j)
                self.num_skipped += 1
        raise UserError(f"{self.root}: no readable sample in {type(self).__name__} (all {n} failed)")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root={str(self.root)!r}, len={len(self)}, num_skipped={self.num_skipped})"


# Registration: importing the format modules registers them (they import the names above).
from synth.data.readers import aflw2000, aflw_crops, celeba, ibug, image_folder, wflw  # noqa: E402,F401
