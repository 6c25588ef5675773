"""The face as occluders see it: named landmark points and a face-aligned 2D frame.

Convention: pixels, origin at the centre of the top-left pixel. ``down`` points from the
brows' centre to the chin; ``right`` is ``down`` turned by -90 degrees, i.e. the image's
right for an upright face (the subject's left). Sizes: ``height_px`` is brows -> chin,
``width_px`` the jaw's extent along ``right`` (it shrinks with yaw).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.landmarks import NUM_LANDMARKS, group_indices, landmark_index

_BROWS = group_indices("right_brow", "left_brow")
_JAW = group_indices("jaw")
_R_EYE = group_indices("right_eye")
_L_EYE = group_indices("left_eye")
_MOUTH = group_indices("outer_lip")
_CHIN = landmark_index("jaw_08")
_NOSE_TIP = landmark_index("nose_bridge_3")


@dataclass(frozen=True, eq=False)
class FaceFrame:
    """Landmarks (68, 2) float64 px, face bbox (x0, y0, x1, y1), and derived axes and sizes."""

    lmk: np.ndarray
    bbox: np.ndarray
    brow_mid: np.ndarray
    down: np.ndarray
    right: np.ndarray
    height_px: float
    width_px: float
    yaw_sign: float  # nose tip offset from the jaw's centre along ``right``, in [-1, 1]

    @staticmethod
    def check_inputs(lmk2d_px: np.ndarray, face_bbox: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(68, 2) landmarks and (4,) bbox as float64, or ``ValueError`` naming the bad one."""
        lmk = np.asarray(lmk2d_px, np.float64)
        bbox = np.asarray(face_bbox, np.float64).reshape(-1)
        if lmk.shape != (NUM_LANDMARKS, 2) or not np.isfinite(lmk).all():
            raise ValueError(f"lmk2d_px: expected finite ({NUM_LANDMARKS}, 2) pixels, got shape {lmk.shape}")
        if bbox.shape != (4,) or not np.isfinite(bbox).all() or bbox[2] < bbox[0] or bbox[3] < bbox[1]:
            raise ValueError(f"face_bbox: expected finite (x0, y0, x1, y1) with x0 <= x1, y0 <= y1, got {bbox}")
        return lmk, bbox

    @classmethod
    def from_landmarks(cls, lmk2d_px: np.ndarray, face_bbox: np.ndarray) -> "FaceFrame":
        lmk, bbox = cls.check_inputs(lmk2d_px, face_bbox)
        brow_mid = lmk[_BROWS].mean(0)
        d = lmk[_CHIN] - brow_mid
        height = float(np.hypot(*d))
        down = d / height if height > 1e-6 else np.array([0.0, 1.0])
        right = np.array([down[1], -down[0]])
        u = (lmk[_JAW] - brow_mid) @ right
        height = max(height, 0.3 * float(max(bbox[2] - bbox[0], bbox[3] - bbox[1])), 2.0)
        width = max(float(u.max() - u.min()), 0.35 * height)
        jaw_mid = 0.5 * (u.max() + u.min())
        yaw = float(np.clip(((lmk[_NOSE_TIP] - brow_mid) @ right - jaw_mid) / (0.5 * width), -1.0, 1.0))
        return cls(lmk, bbox, brow_mid, down, right, height, width, yaw)

    def pt(self, name: str) -> np.ndarray:
        """(2,) px of the landmark called ``name`` (see ``synth.landmarks.LANDMARK_NAMES``)."""
        return self.lmk[landmark_index(name)]

    def mean(self, *groups: str) -> np.ndarray:
        """(2,) px: centroid of the named landmark groups."""
        return self.lmk[group_indices(*groups)].mean(0)

    def at(self, origin: np.ndarray, u: np.ndarray | float, v: np.ndarray | float) -> np.ndarray:
        """Points ``origin + u * right + v * down`` (u, v in px; broadcast) -> (..., 2)."""
        u, v = np.asarray(u, np.float64), np.asarray(v, np.float64)
        return origin + u[..., None] * self.right + v[..., None] * self.down

    @property
    def eye_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(subject's right eye, left eye) centroids, px."""
        return self.lmk[_R_EYE].mean(0), self.lmk[_L_EYE].mean(0)

    @property
    def jaw(self) -> np.ndarray:
        """(17, 2) jaw contour, jaw_00 (subject's right) to jaw_16."""
        return self.lmk[_JAW]

    @property
    def mouth_centre(self) -> np.ndarray:
        return self.lmk[_MOUTH].mean(0)

    @property
    def size_px(self) -> float:
        """A robust face size: max(bbox side, brows->chin height)."""
        return float(max(self.bbox[2] - self.bbox[0], self.bbox[3] - self.bbox[1], self.height_px))
