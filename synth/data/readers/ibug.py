"""300W / iBUG-style folders: images with a ``.pts`` file of 68 hand-annotated points each.

Layout (searched recursively, sorted by relative path): ``NAME.pts`` next to ``NAME.jpg``
(or .jpeg/.png/.bmp). A sample is a ``.pts`` file; images without one are ignored (300W
folders hold some unannotated images). A ``.pts`` looks like::

    version: 1
    n_points:  68
    {
    446.000 91.000
    ...                 (68 lines "x y")
    }

Conversion
    The 300W coordinates are 1-based (MATLAB: the top-left pixel's centre is (1, 1)); the
    project's are 0-based at the pixel centre, so 1 is subtracted from x and y. Convention
    "2d" (the jaw follows the visible outline). Pose and visibility unknown (masks False);
    bbox = tight box of the 68 points.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synth.data.readers import FaceReader, bbox_from_points, read_image_rgb, register_reader
from synth.data.record import FaceSample
from synth.landmarks import NUM_LANDMARKS

__all__ = ["IbugReader", "parse_pts", "PTS_ORIGIN_PX"]

#: Pixel coordinate of the top-left pixel's centre in 300W ``.pts`` files (MATLAB, 1-based).
PTS_ORIGIN_PX = 1.0

_IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp")


def parse_pts(path: Path, expected_points: int = NUM_LANDMARKS) -> np.ndarray:
    """Points of an iBUG ``.pts`` file as written (no origin shift): (n_points, 2) float64.

    Raises:
        ValueError: the file does not follow the format (message names file and line).
    """
    try:
        text = Path(path).read_text(encoding="utf-8", errors="strict")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read .pts file ({type(e).__name__}); expected a text file") from None
    lines = [(no, ln.strip()) for no, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
    it = iter(lines)

    def nxt(expected: str) -> tuple[int, str]:
        try:
            return next(it)
        except StopIteration:
            raise ValueError(f"{path}: file ends early; expected {expected}") from None

    no, ln = nxt("'version: 1'")
    if not ln.startswith("version"):
        raise ValueError(f"{path}:{no}: expected 'version: 1', got {ln[:40]!r}")
    no, ln = nxt("'n_points: 68'")
    key, _, value = ln.partition(":")
    if key.strip() != "n_points" or value.strip() != str(expected_points):
        raise ValueError(f"{path}:{no}: expected 'n_points: {expected_points}', got {ln[:40]!r}")
    no, ln = nxt("'{'")
    if ln != "{":
        raise ValueError(f"{path}:{no}: expected '{{', got {ln[:40]!r}")
    pts = []
    for k in range(expected_points):
        no, ln = nxt(f"{expected_points} point lines 'x y' (got {k})")
        fields = ln.split()
        try:
            if len(fields) != 2:
                raise ValueError
            pts.append((float(fields[0]), float(fields[1])))
        except ValueError:
            raise ValueError(f"{path}:{no}: expected point {k} as two numbers 'x y', got {ln[:40]!r}") from None
    no, ln = nxt("'}'")
    if ln != "}":
        raise ValueError(f"{path}:{no}: expected '}}' after {expected_points} points, got {ln[:40]!r}")
    out = np.asarray(pts, np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{path}: non-finite point coordinates")
    return out


@register_reader("ibug")
class IbugReader(FaceReader):
    """300W / iBUG / any folder of ``NAME.pts`` + image with 68 points.

    Args:
        root: the dataset folder (searched recursively).
        skip_bad: log and skip malformed ``.pts`` files / missing or unreadable images.

    Attributes:
        landmarks_px: (N, 68, 2) float32, 0-based pixel-centre coordinates.
    """

    source = "300w"

    def __init__(self, root: str | Path, *, skip_bad: bool = False) -> None:
        super().__init__(root, skip_bad=skip_bad)
        lmks = []
        for pts_path in sorted(self.root.rglob("*.pts")):
            image = next((pts_path.with_suffix(e) for e in _IMAGE_EXTS if pts_path.with_suffix(e).is_file()), None)
            if image is None:
                self._bad(f"{pts_path}: no image next to it; expected {pts_path.stem}.jpg (or .jpeg/.png/.bmp)")
                continue
            try:
                pts = parse_pts(pts_path)
            except ValueError as e:
                self._bad(str(e))
                continue
            self._items.append((str(image), str(pts_path.relative_to(self.root).with_suffix(""))))
            lmks.append(pts - PTS_ORIGIN_PX)
        self.landmarks_px = np.asarray(lmks, np.float32).reshape(-1, NUM_LANDMARKS, 2)

    def _load(self, i: int) -> FaceSample:
        image_path, name = self._items[i]
        return FaceSample(
            image=read_image_rgb(Path(image_path)),
            landmarks=self.landmarks_px[i],
            landmark_valid=np.ones(NUM_LANDMARKS, bool),
            bbox=bbox_from_points(self.landmarks_px[i]),
            bbox_valid=True,
            convention="2d",
            source=self.source,
            name=name,
        )
