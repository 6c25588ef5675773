"""Image files under a user folder: listed once (recursively, sorted), read on demand.

An ``ImageFolder`` holds paths, never pixels, so it pickles cheaply into data-loader
workers. Reading converts cv2's BGR(A) to RGB(A) here, at the I/O boundary.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from synth.errors import UserError

__all__ = ["ImageFolder", "IMAGE_SUFFIXES", "RGBA_SUFFIXES", "cached_folder"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
RGBA_SUFFIXES = (".png", ".webp")  # formats that can carry an alpha channel


class ImageFolder:
    """Recursive, sorted list of image files under ``root``.

    Raises ``UserError`` naming ``root`` if it is not a folder or holds no file with one of
    ``suffixes`` (case-insensitive).
    """

    def __init__(self, root: Path | str, suffixes: tuple[str, ...] = IMAGE_SUFFIXES,
                 what: str = "image"):
        self.root = Path(root)
        self.what = what
        if not self.root.is_dir():
            raise UserError(f"{what} folder {self.root} does not exist or is not a folder")
        paths = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in suffixes and p.is_file())
        if not paths:
            raise UserError(f"{what} folder {self.root} holds no images; expected at least one "
                            f"file ending in {', '.join(suffixes)} (searched recursively)")
        self.paths: tuple[Path, ...] = tuple(paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r}, {len(self)} files)"

    def read_rgb(self, i: int) -> np.ndarray:
        """Image ``i`` as (H, W, 3) uint8 RGB."""
        img = cv2.imread(str(self.paths[i]), cv2.IMREAD_COLOR)
        if img is None or img.size == 0:
            raise UserError(f"cannot read {self.what} image {self.paths[i]} (unreadable or not an image)")
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def read_rgba(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Image ``i`` as ((H, W, 3) uint8 RGB, (H, W) float32 alpha); no alpha channel -> opaque."""
        img = cv2.imread(str(self.paths[i]), cv2.IMREAD_UNCHANGED)
        if img is None or img.size == 0:
            raise UserError(f"cannot read {self.what} image {self.paths[i]} (unreadable or not an image)")
        if img.dtype == np.uint16:
            img = (img >> 8).astype(np.uint8)
        elif img.dtype != np.uint8:
            img = np.clip(img.astype(np.float32) * (255.0 if img.dtype.kind == "f" else 1.0), 0, 255).astype(np.uint8)
        if img.ndim == 2:
            img = img[..., None]
        c = img.shape[2]
        if c == 4:
            return cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2RGB), img[..., 3].astype(np.float32) / 255.0
        rgb = cv2.cvtColor(img[..., :1] if c in (1, 2) else img[..., :3],
                           cv2.COLOR_GRAY2RGB if c in (1, 2) else cv2.COLOR_BGR2RGB)
        alpha = img[..., 1].astype(np.float32) / 255.0 if c == 2 else np.ones(img.shape[:2], np.float32)
        return rgb, alpha


F = TypeVar("F", bound=ImageFolder)


def cached_folder(cls: type[F], root: Path) -> F:
    """``cls(root)`` listed once per process (per class and path) and reused afterwards.

    Errors (missing or empty folder) are not cached: they are raised again on the next call.
    """
    return _cached(cls, Path(root))  # type: ignore[return-value]


@functools.lru_cache(maxsize=16)
def _cached(cls: type[ImageFolder], root: Path) -> ImageFolder:
    return cls(root)
