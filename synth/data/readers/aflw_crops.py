"""AFLW face crops (``aflw-crops.tar`` in the shared data): 120x120 faces, AFLW yaw, 21 points.

Layout (``root`` = the unpacked ``aflw-crops`` folder; unpack the tar outside the repo)::

    root/images/NAME.jpg     120x120 crops of AFLW photos
    root/labels.npz          names (N,), yaw_deg (N,), pts21 (N, 2, 21), roi_box (N, 4)

Coordinates
    ``pts21`` is in the original photo; a point maps into the crop as
    ``(p - (x0, y0)) * 120 / (x1 - x0)`` with ``roi_box = (x0, y0, x1, y1)`` (the README's
    formula; one scale for x and y: ``y1`` is clipped at the photo's border for 0.7 % of the
    boxes and those crops are padded, checked on images). The README's crop procedure is
    not published, so no half-pixel term is added (it would be < 0.3 px). A point with a
    negative coordinate was not annotated: AFLW stores (-1, -1), which the 3DDFA export
    turned into (-1, 452).

Left and right (checked by drawing the points on crops and against AFLW2000-3D's
``pt3d_68`` on the same photos): AFLW's "left" is the *viewer's* (image's) left, i.e. the
subject's right. "left brow left corner" is iBUG 17 (subject's right brow, outer end).

Mapping to iBUG 68 (convention "sparse"), ``AFLW21_TO_IBUG`` below. Median distance of each
AFLW point to its iBUG point on the 100 AFLW2000-3D dev photos with |yaw| < 30, in units of
the outer-eye-corner distance (36-45): mapped points 0.025-0.042. Left out: eye centres
(no iBUG counterpart), ears (no counterpart; 2D-close to jaw 2/14 only in frontal views),
nose left/right (the alae; 0.06 from 31/35, beyond the other mapped points), mouth centre
(between the lips, neither 62 nor 66).

Labels: yaw only, ``euler_deg = (yaw, 0, 0)`` with ``euler_valid = (True, False, False)``,
``rotation_valid`` False. ``yaw_deg`` has AFLW2000-3D's sign (> 0: face turned toward the
image's left; checked on images); it is AFLW's coarse estimate, some values beyond +-90.
Visibility: AFLW annotates visible points only, so an annotated point is visible
(``visible_valid`` True there); for the others visibility is unknown.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from synth.data.readers import FaceReader, read_image_rgb, register_reader
from synth.data.record import FaceSample
from synth.errors import UserError
from synth.landmarks import NUM_LANDMARKS, landmark_index

__all__ = ["AflwCropsReader", "AFLW21_NAMES", "AFLW21_TO_IBUG", "aflw21_to_ibug68", "CROP_SIZE_PX"]

CROP_SIZE_PX = 120

#: The 21 AFLW points in file order, AFLW's names ("left" = the image's left).
AFLW21_NAMES: tuple[str, ...] = (
    "left_brow_left_corner", "left_brow_center", "left_brow_right_corner",
    "right_brow_left_corner", "right_brow_center", "right_brow_right_corner",
    "left_eye_left_corner", "left_eye_center", "left_eye_right_corner",
    "right_eye_left_corner", "right_eye_center", "right_eye_right_corner",
    "left_ear", "nose_left", "nose_center", "nose_right", "right_ear",
    "mouth_left_corner", "mouth_center", "mouth_right_corner", "chin_center",
)
#: AFLW point -> iBUG name (subject's sides) or None; measured median offsets in the module doc.
AFLW21_TO_IBUG: dict[str, str | None] = {
    "left_brow_left_corner": "r_brow_outer",  # 17
    "left_brow_center": "r_brow_mid",  # 19
    "left_brow_right_corner": "r_brow_inner",  # 21
    "right_brow_left_corner": "l_brow_inner",  # 22
    "right_brow_center": "l_brow_mid",  # 24
    "right_brow_right_corner": "l_brow_outer",  # 26
    "left_eye_left_corner": "r_eye_outer",  # 36
    "left_eye_center": None,
    "left_eye_right_corner": "r_eye_inner",  # 39
    "right_eye_left_corner": "l_eye_inner",  # 42
    "right_eye_center": None,
    "right_eye_right_corner": "l_eye_outer",  # 45
    "left_ear": None,
    "nose_left": None,  # ala, near 31 (0.06 IOD)
    "nose_center": "nose_bridge_3",  # 30, the nose tip
    "nose_right": None,  # ala, near 35
    "right_ear": None,
    "mouth_left_corner": "r_mouth_corner",  # 48
    "mouth_center": None,
    "mouth_right_corner": "l_mouth_corner",  # 54
    "chin_center": "jaw_08",  # 8
}
_TARGETS = np.array([landmark_index(AFLW21_TO_IBUG[n]) if AFLW21_TO_IBUG[n] else -1 for n in AFLW21_NAMES], np.int64)


def aflw21_to_ibug68(pts21_px: np.ndarray, annotated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map AFLW 21 points (any frame) to iBUG 68 slots.

    Args:
        pts21_px: (21, 2) float, pixels.
        annotated: (21,) bool, the point was annotated.

    Returns:
        landmarks (68, 2) float32 (zeros where invalid) and landmark_valid (68,) bool.
    """
    p = np.asarray(pts21_px, np.float64)
    if p.shape != (21, 2):
        raise ValueError(f"expected (21, 2) AFLW points, got shape {p.shape}")
    annotated = np.asarray(annotated, bool).reshape(21)
    lmk = np.zeros((NUM_LANDMARKS, 2), np.float32)
    valid = np.zeros(NUM_LANDMARKS, bool)
    use = (_TARGETS >= 0) & annotated
    lmk[_TARGETS[use]] = p[use]
    valid[_TARGETS[use]] = True
    return lmk, valid


@register_reader("aflw_crops")
class AflwCropsReader(FaceReader):
    """The shared AFLW crops: yaw + up to 21 points (mapped to iBUG 68) per 120x120 crop.

    Args:
        root: the unpacked ``aflw-crops`` folder (``images/``, ``labels.npz``).
        max_abs_yaw_deg: leave out crops with |yaw| above this (degrees); None keeps all.
        skip_bad: log and skip crops whose image is missing or unreadable.

    Attributes:
        yaw_deg: (N,) float32.
        pts21_px: (N, 21, 2) float32 in crop pixels (may lie outside the crop), 0 where not annotated.
        pts21_valid: (N, 21) bool, the point was annotated.
    """

    source = "aflw_crops"
    _KEYS = ("names", "yaw_deg", "pts21", "roi_box")

    def __init__(self, root: str | Path, *, max_abs_yaw_deg: float | None = None, skip_bad: bool = False) -> None:
        super().__init__(root, skip_bad=skip_bad)
        labels = self.root / "labels.npz"
        image_dir = self.root / "images"
        if not labels.is_file() or not image_dir.is_dir():
            raise UserError(f"{self.root}: expected the unpacked aflw-crops folder with labels.npz and images/")
        try:
            with np.load(labels, allow_pickle=False) as z:
                missing = [k for k in self._KEYS if k not in z.files]
                if missing:
                    raise UserError(f"{labels}: fields {missing} missing; expected {list(self._KEYS)}")
                names, yaw, pts21, roi = (z[k] for k in self._KEYS)
        except UserError:
            raise
        except Exception as e:
            raise UserError(f"{labels}: cannot read ({type(e).__name__}: {e}); expected an .npz with {list(self._KEYS)}") from None
        n = len(names)
        shapes = {"yaw_deg": (yaw.shape, (n,)), "pts21": (pts21.shape, (n, 2, 21)), "roi_box": (roi.shape, (n, 4))}
        for key, (got, want) in shapes.items():
            if got != want:
                raise UserError(f"{labels}: {key} has shape {got}; expected {want} (N = {n} names)")
        x0, y0, x1 = (roi[:, k].astype(np.float64) for k in range(3))
        if np.any(x1 <= x0):
            bad = int(np.flatnonzero(x1 <= x0)[0])
            raise UserError(f"{labels}: roi_box[{bad}] = {roi[bad].tolist()}; expected x1 > x0")
        p = np.transpose(pts21.astype(np.float64), (0, 2, 1))  # (N, 21, 2)
        annotated = np.all(p >= 0, axis=2)
        scale = CROP_SIZE_PX / (x1 - x0)
        crop = (p - np.stack([x0, y0], 1)[:, None, :]) * scale[:, None, None]
        crop = np.where(annotated[..., None], crop, 0.0)
        present = set(os.listdir(image_dir))
        keep = []
        self.num_filtered = 0
        for i, name in enumerate(names.tolist()):
            if max_abs_yaw_deg is not None and abs(float(yaw[i])) > max_abs_yaw_deg:
                self.num_filtered += 1
                continue
            if name not in present:
                self._bad(f"{labels}: names[{i}] = {name!r} but {image_dir / name} does not exist")
                continue
            if not np.isfinite(yaw[i]):
                self._bad(f"{labels}: yaw_deg[{i}] is not finite")
                continue
            keep.append(i)
            self._items.append((str(image_dir / name), name))
        keep = np.asarray(keep, np.int64)
        self.yaw_deg = yaw[keep].astype(np.float32)
        self.pts21_px = crop[keep].astype(np.float32)
        self.pts21_valid = annotated[keep]

    def _load(self, i: int) -> FaceSample:
        image_path, name = self._items[i]
        image = read_image_rgb(Path(image_path))
        lmk, valid = aflw21_to_ibug68(self.pts21_px[i], self.pts21_valid[i])
        return FaceSample(
            image=image,
            landmarks=lmk,
            landmark_valid=valid,
            visible=valid.copy(),
            visible_valid=valid.copy(),
            euler_deg=np.array([self.yaw_deg[i], 0.0, 0.0], np.float32),
            euler_valid=np.array([True, False, False]),
            convention="sparse",
            source=self.source,
            name=name,
        )
