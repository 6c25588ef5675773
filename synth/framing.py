"""Camera placement and the face crop (what a face detector would hand a model).

A sample is shot by a virtual camera with a ``sensor_px``-wide sensor; the head sits at
``distance_mm`` along the view axis, possibly off-axis (perspective skew). Instead of
rendering the whole sensor, the renderer draws only the crop: a square box centred on
the box of the projected 68 landmarks (3D convention), with jittered scale and shift,
resampled to ``image_size`` pixels. The crop side does not depend on the pose (a face
detector's box does not shrink for a profile): it is ``scale`` times the projected
diameter of the landmarks' bounding sphere, 2 f r / d, with r the largest distance of a
landmark from their centroid (about 75-85 mm on an adult) and d the centroid's depth. ``crop_intrinsics`` folds the crop into the camera matrix, so every
label is projected straight into crop pixels.

Pixel convention (``synth.geometry``): pixel centres at integers; a box is given by its
continuous edges (x0, y0, x1, y1), so pixel i of the full image spans [i - 0.5, i + 0.5].
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from synth.errors import UserError

__all__ = ["CameraConfig", "CropConfig", "sample_camera", "crop_box", "crop_intrinsics"]


@dataclass(frozen=True)
class CameraConfig:
    """Virtual camera.

    Attributes:
        sensor_px: width = height of the virtual sensor (pixels).
        fov_deg: horizontal field of view range (uniform), degrees.
        distance_mm: range of the head's distance along the view axis (log-uniform), mm.
        offset_frac: lateral head offset from the optical axis as a fraction of the distance
            (uniform in ±offset_frac, x and y): off-axis faces show perspective skew.
    """

    sensor_px: int = 1024
    fov_deg: tuple[float, float] = (25.0, 60.0)
    distance_mm: tuple[float, float] = (350.0, 1500.0)
    offset_frac: float = 0.12

    def __post_init__(self) -> None:
        if not 0 < self.fov_deg[0] <= self.fov_deg[1] < 170:
            raise UserError(f"camera.fov_deg: expected 0 < min <= max < 170 degrees, got {self.fov_deg}")
        if not 100 <= self.distance_mm[0] <= self.distance_mm[1]:
            raise UserError(f"camera.distance_mm: expected 100 <= min <= max (mm), got {self.distance_mm}")
        if not 0 <= self.offset_frac <= 0.5 or self.sensor_px < 16:
            raise UserError(f"camera: offset_frac in [0, 0.5] and sensor_px >= 16 expected, got {self.offset_frac}, {self.sensor_px}")


@dataclass(frozen=True)
class CropConfig:
    """The face crop.

    Attributes:
        image_size: output side (pixels).
        scale: crop side / projected diameter of the landmarks' bounding sphere, uniform range.
        shift_frac: centre jitter as a fraction of the crop side (uniform ±, x and y).
    """

    image_size: int = 256
    scale: tuple[float, float] = (1.25, 1.6)
    shift_frac: float = 0.06

    def __post_init__(self) -> None:
        if not 16 <= self.image_size <= 4096:
            raise UserError(f"crop.image_size: expected 16..4096 pixels, got {self.image_size}")
        if not 0.5 <= self.scale[0] <= self.scale[1]:
            raise UserError(f"crop.scale: expected 0.5 <= min <= max, got {self.scale}")
        if not 0 <= self.shift_frac <= 0.5:
            raise UserError(f"crop.shift_frac: expected 0..0.5, got {self.shift_frac}")


def sample_camera(rng: np.random.Generator, cfg: CameraConfig) -> tuple[np.ndarray, np.ndarray]:
    """Sample the sensor intrinsics and the head translation.

    Returns:
        K_sensor: (3, 3) float64 intrinsics of the full sensor (pixels).
        t_mm: (3,) float64 head origin in the camera frame (mm; z < 0 in front).
    """
    u = rng.random(4)
    fov = cfg.fov_deg[0] + u[0] * (cfg.fov_deg[1] - cfg.fov_deg[0])
    f = (cfg.sensor_px / 2) / np.tan(np.radians(fov) / 2)
    c = (cfg.sensor_px - 1) / 2
    K = np.array([[f, 0, c], [0, f, c], [0, 0, 1]], dtype=np.float64)
    lo, hi = np.log(cfg.distance_mm[0]), np.log(cfg.distance_mm[1])
    d = float(np.exp(lo + u[1] * (hi - lo)))
    # keep the head inside the field of view whatever the fov
    off = cfg.offset_frac * min(1.0, 0.6 * np.tan(np.radians(fov) / 2) / max(cfg.offset_frac, 1e-9))
    t = np.array([(2 * u[2] - 1) * off * d, (2 * u[3] - 1) * off * d, -d])
    return K, t


def crop_box(rng: np.random.Generator, lmk_cam: np.ndarray, K_sensor: np.ndarray, cfg: CropConfig) -> np.ndarray:
    """A square crop box around the face.

    Args:
        lmk_cam: (N, 3) landmarks in the camera frame (mm), in front of the camera.
        K_sensor: (3, 3) sensor intrinsics (pixels).

    Returns:
        (4,) float64 box edges (x0, y0, x1, y1) in sensor pixels (continuous coordinates).
    """
    u = rng.random(3)
    K = np.asarray(K_sensor, dtype=np.float64)
    # centre of the projected landmarks' box; their bounding sphere (about the centroid)
    cx, cy, radius_mm, depth = _box_and_sphere(np.ascontiguousarray(lmk_cam, dtype=np.float64),
                                               K[0, 0], K[1, 1], K[0, 2], K[1, 2])
    diameter_px = 2.0 * float(K[0, 0]) * radius_mm / max(depth, 1e-6)
    side = max(diameter_px * (cfg.scale[0] + u[0] * (cfg.scale[1] - cfg.scale[0])), 1e-3)
    cx += (2 * u[1] - 1) * cfg.shift_frac * side
    cy += (2 * u[2] - 1) * cfg.shift_frac * side
    return np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2])


@numba.njit(cache=True, nogil=True)
def _box_and_sphere(p, fx, fy, px, py):  # pragma: no cover - numba
    """(N, 3) camera-frame points -> (centre u, centre v of their projected box, radius of
    the sphere about their centroid enclosing them (mm), centroid depth -z (mm)); the
    projection is ``synth.geometry.project_points``'."""
    n = p.shape[0]
    umin, umax, vmin, vmax = np.inf, -np.inf, np.inf, -np.inf
    sx, sy, sz = 0.0, 0.0, 0.0
    for i in range(n):
        x, y, z = p[i, 0], p[i, 1], p[i, 2]
        u, v = px + fx * x / -z, py - fy * y / -z
        umin, umax, vmin, vmax = min(umin, u), max(umax, u), min(vmin, v), max(vmax, v)
        sx, sy, sz = sx + x, sy + y, sz + z
    sx, sy, sz = sx / n, sy / n, sz / n
    r2 = 0.0
    for i in range(n):
        r2 = max(r2, (p[i, 0] - sx) ** 2 + (p[i, 1] - sy) ** 2 + (p[i, 2] - sz) ** 2)
    return (umin + umax) / 2, (vmin + vmax) / 2, np.sqrt(r2), -sz


def crop_intrinsics(K_sensor: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """Intrinsics of the crop ``box`` resampled to ``size`` x ``size`` pixels.

    A sensor point u maps to the crop as u' = (u - x0) * size / side - 0.5 (the pixel-centre
    convention), which is an affine map folded into K.

    Returns:
        (3, 3) float64 crop intrinsics.
    """
    s = size / (box[2] - box[0])
    K = np.asarray(K_sensor, dtype=np.float64).copy()
    K[0, 0] *= s
    K[1, 1] *= s
    K[0, 2] = (K[0, 2] - box[0]) * s - 0.5
    K[1, 2] = (K[1, 2] - box[1]) * s - 0.5
    return K
