"""Label-consistent augmentation of ``FaceSample``: flips and affines move landmarks, masks and pose.

Symbols: K = 68 landmarks, H x W image, theta = in-plane rotation (degrees, clockwise in the image).

Conventions (``synth.geometry``, ``synth.landmarks``): pixels with the origin at the centre of
the top-left pixel; yaw/pitch/roll in the 300W-LP ``Pose_Para`` convention; ``rotation`` is
R_cam_from_model with camera x right, y up, z toward the viewer.

Horizontal flip
    Image column x -> W - 1 - x; landmarks by ``synth.landmarks.flip_landmarks`` (mirror and
    ``FLIP_PERMUTATION``), ``landmark_valid``/``visible``/``visible_valid`` permuted the same
    way. The mirrored scene is the original seen through M = diag(-1, 1, 1) in both the
    camera and the model frame (mirror partners swap), so ``R' = M R M``. Since
    ``M Rx(p) M = Rx(p)``, ``M Ry(y) M = Ry(-y)`` and ``M Rz(r) M = Rz(-r)``, this equals
    ``euler_to_matrix(-yaw, pitch, -roll)``: yaw and roll negate, pitch stays (a test pins
    that both agree).
In-plane rotation (``RandomAffine``)
    Rotating the image by theta clockwise about the camera's optical axis is, in the camera
    frame, a rotation about z that moves +y (up) toward +x: ``Rz(theta)`` of the Euler
    convention, so ``R' = Rz(theta) @ R = euler_to_matrix(0, 0, theta) @ R`` and the angles
    are re-read with ``matrix_to_euler``. For yaw = pitch = 0
    that is roll' = roll + theta (clockwise image rotation adds to roll). In general all three
    angles change: column 2 of R is (-sin y, sin p cos y, cos p cos y), so sin y' = cos(theta)
    sin y - sin(theta) sin p cos y; yaw alone does not determine yaw'. The labels are exact (for the weak-perspective
    labels every source uses) only when the full rotation is known; for a partial pose
    (e.g. AFLW with yaw only) ``partial_pose`` decides:
    ``"no_rotate"`` (default): rotate only samples whose pose is fully known or fully
    unknown; a partial-pose sample still gets the scale and shift (which keep the pose);
    ``"keep_yaw"``: rotate, keep yaw as is (approximate: error up to ~|theta| * |sin pitch|),
    mark pitch and roll unknown; ``"drop"``: rotate, mark every angle unknown.
    Scale and translation never change the pose (like a crop).
Occlusion
    Random erasing and affines that move a landmark out of the image clear its ``visible``
    flag; ``visible_valid`` is left as it was (a source without visibility labels should not
    get only negative ones).

Implementation: OpenCV and NumPy on the (H, W, 3) uint8 image. torchvision.transforms.v2
carries ``KeyPoints`` through geometry but not the landmark permutation nor the pose, works
on CHW tensors, and its hue jitter costs ~3 ms at 128 px (the loader budget is 1 ms per
sample); here one explicit 2x3 matrix moves image and points (``synth.data.crop.warp_sample``;
``CropAugment`` folds crop, affine and flip into one such warp) and colour jitter is one 3x4
colour matrix (``cv2.transform``). The per-sample label arithmetic (3x3 rotations, Euler
angles, box corners) runs on Python floats where numpy's per-call overhead would dominate.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable, Literal, Sequence

import cv2
import numba
import numpy as np

from synth.data.crop import (DEFAULT_MARGIN, BorderMode, crop_affine, crop_square, warp_image, warp_labels,
                             warp_sample)
from synth.data.record import FaceSample
from synth.geometry import euler_to_matrix, matrix_to_euler
from synth.landmarks import FLIP_PERMUTATION, flip_landmarks

__all__ = [
    "AugmentConfig", "Augment", "CropAugment", "Compose", "build_augment", "PartialPosePolicy",
    "hflip", "flip_rotation", "rotation_affine", "rotate_pose", "rotate_scale_translate",
    "HorizontalFlip", "RandomAffine", "ColorJitter", "GaussianBlur", "GaussianNoise", "JpegCompression",
    "RandomErasing",
]

PartialPosePolicy = Literal["no_rotate", "keep_yaw", "drop"]
#: ``M R M`` with M = diag(-1, 1, 1) negates exactly the entries with one index 0
_MIRROR_SIGNS = np.array([[1.0, -1.0, -1.0], [-1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]], np.float32)
#: ITU-R BT.601 luma weights (as torchvision's grayscale)
_LUMA = np.array([0.299, 0.587, 0.114])
#: RGB -> YIQ; a hue rotation turns the (I, Q) plane about the grey axis
_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ_INV = np.linalg.inv(_YIQ)
#: the hue turn by a in RGB, ``_YIQ_INV @ [[1, 0, 0], [0, cos a, -sin a], [0, sin a, cos a]] @ _YIQ``,
#: is ``_HUE_1 + cos(a) _HUE_COS + sin(a) _HUE_SIN``
_HUE_1 = _YIQ_INV @ np.diag([1.0, 0.0, 0.0]) @ _YIQ
_HUE_COS = _YIQ_INV @ np.diag([0.0, 1.0, 1.0]) @ _YIQ
_HUE_SIN = _YIQ_INV @ np.array([[0.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]) @ _YIQ
#: rows of luma weights: x -> (luma(x), luma(x), luma(x)), the grey of saturation 0
_GREY_PROJ = np.outer(np.ones(3), _LUMA)


# ----------------------------------------------------------------------------- flip

def flip_rotation(R_cam_from_model: np.ndarray) -> np.ndarray:
    """(3, 3) float32 rotation of the mirrored image: ``M R M``, M = diag(-1, 1, 1) (sign flips, exact)."""
    return np.asarray(R_cam_from_model, np.float32) * _MIRROR_SIGNS


def _wrap_deg(a: float) -> float:
    """An angle (degrees) to (-180, 180]."""
    a = (a + 180.0) % 360.0 - 180.0
    return a + 360.0 if a <= -180.0 else a


def _flip_labels(sample: FaceSample, width: int) -> FaceSample:
    """``hflip``'s labels for an image of ``width`` pixels; the image is left as it is
    (``CropAugment`` mirrors it within its one warp)."""
    perm = FLIP_PERMUTATION
    (yaw, pitch, roll), (vy, vp, vr) = sample.euler_deg.tolist(), np.asarray(sample.euler_valid, bool).tolist()
    euler = np.array([_wrap_deg(-yaw) if vy else 0.0, _wrap_deg(pitch) if vp else 0.0,
                      _wrap_deg(-roll) if vr else 0.0], np.float32)
    bbox = sample.bbox
    if sample.bbox_valid:
        x0, y0, x1, y1 = sample.bbox.tolist()
        bbox = np.array([width - 1 - x1, y0, width - 1 - x0, y1], np.float32)
    landmark_valid = sample.landmark_valid[perm]
    landmarks = flip_landmarks(sample.landmarks, width).astype(np.float32)
    if not landmark_valid.all():
        landmarks[~landmark_valid] = 0.0  # unlabelled rows stay 0 (the mirror moved them to x = W - 1)
    return sample._evolve(
        landmarks=landmarks, landmark_valid=landmark_valid, visible=sample.visible[perm],
        visible_valid=sample.visible_valid[perm], euler_deg=euler,
        rotation=flip_rotation(sample.rotation) if sample.rotation_valid else sample.rotation,
        bbox=bbox,
    )


def hflip(sample: FaceSample) -> FaceSample:
    """Mirror the image left-right, with every label (see the module doc)."""
    return _flip_labels(sample, sample.image.shape[1])._evolve(image=cv2.flip(sample.image, 1))


# ----------------------------------------------------------------------------- affine

def _pose_known(sample: FaceSample) -> str:
    """'full', 'none' or 'partial'."""
    valid = np.asarray(sample.euler_valid, bool)
    if sample.rotation_valid or valid.all():
        return "full"
    return "partial" if valid.any() else "none"


def rotation_affine(angle_cw_deg: float, scale: float, shift_px: Sequence[float], width: int, height: int) -> np.ndarray:
    """(2, 3) ``dst_from_src``: rotate clockwise by theta and scale about the image centre, then shift.

    ``dst = scale * Rot_cw(theta) @ (src - c) + c + shift`` with c = ((W - 1) / 2, (H - 1) / 2)
    and, in image axes (x right, y down), Rot_cw(theta) = [[cos, -sin], [sin, cos]].
    """
    t = math.radians(angle_cw_deg)
    c, s = scale * math.cos(t), scale * math.sin(t)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    dx, dy = float(shift_px[0]), float(shift_px[1])
    return np.array([[c, -s, cx + dx - (c * cx - s * cy)], [s, c, cy + dy - (s * cx + c * cy)]])


def _effective_angle(sample: FaceSample, angle_cw_deg: float, partial_pose: PartialPosePolicy) -> float:
    return 0.0 if partial_pose == "no_rotate" and _pose_known(sample) == "partial" else float(angle_cw_deg)


def rotate_pose(sample: FaceSample, angle_cw_deg: float, partial_pose: PartialPosePolicy = "no_rotate") -> FaceSample:
    """The pose labels after rotating the image by ``angle_cw_deg`` clockwise (module doc); image untouched."""
    known = _pose_known(sample)
    if angle_cw_deg == 0.0 or known == "none":
        return sample
    if known == "full":
        R = sample.rotation if sample.rotation_valid else euler_to_matrix(*sample.euler_deg)
        R_new = euler_to_matrix(0.0, 0.0, angle_cw_deg) @ np.asarray(R, np.float64)
        return sample._evolve(rotation=R_new.astype(np.float32), rotation_valid=True,
                              euler_deg=matrix_to_euler(R_new).astype(np.float32), euler_valid=np.ones(3, bool))
    if partial_pose == "no_rotate":
        raise ValueError("rotate_pose: a partial pose cannot follow a rotation under partial_pose='no_rotate'")
    keep = np.array([partial_pose == "keep_yaw", False, False]) & sample.euler_valid
    return sample._evolve(euler_valid=keep, euler_deg=np.where(keep, sample.euler_deg, 0).astype(np.float32))


def rotate_scale_translate(sample: FaceSample, angle_cw_deg: float, scale: float = 1.0,
                           shift_px: Sequence[float] = (0.0, 0.0), border: BorderMode = "replicate",
                           partial_pose: PartialPosePolicy = "no_rotate") -> FaceSample:
    """Warp by ``rotation_affine`` (same output size) and update the pose (``rotate_pose``).

    Under ``partial_pose="no_rotate"`` a partial-pose sample gets the scale and shift only.
    """
    angle = _effective_angle(sample, angle_cw_deg, partial_pose)
    h, w = sample.image.shape[:2]
    out = warp_sample(sample, rotation_affine(angle, scale, shift_px, w, h), (w, h), border)
    return rotate_pose(out, angle, partial_pose)


# ----------------------------------------------------------------------------- ops

def _uniform(rng: np.random.Generator, lo_hi: Sequence[float]) -> float:
    lo, hi = lo_hi
    return float(lo + (hi - lo) * rng.random())


@dataclass(frozen=True)
class HorizontalFlip:
    p: float = 0.5

    def draw(self, rng: np.random.Generator) -> bool:
        """Whether the op fires (one draw)."""
        return rng.random() < self.p

    def __call__(self, s: FaceSample, rng: np.random.Generator) -> FaceSample:
        return hflip(s) if self.draw(rng) else s


@dataclass(frozen=True)
class RandomAffine:
    """Rotation U(-rotate_deg, rotate_deg), scale U(scale), shift U(+-translate_frac * side) per axis."""

    p: float = 0.8
    rotate_deg: float = 30.0
    scale: tuple[float, float] = (0.9, 1.1)
    translate_frac: float = 0.05
    partial_pose: PartialPosePolicy = "no_rotate"
    border: BorderMode = "replicate"

    def draw(self, rng: np.random.Generator, width: int, height: int) -> tuple[float, float, np.ndarray] | None:
        """(angle_cw_deg, scale, shift_px), or None when the op does not fire."""
        if rng.random() >= self.p:
            return None
        u = rng.random(4)
        angle = (2 * u[0] - 1) * self.rotate_deg
        scale = self.scale[0] + u[1] * (self.scale[1] - self.scale[0])
        return angle, scale, (2 * u[2:] - 1) * self.translate_frac * np.array([width, height])

    def __call__(self, s: FaceSample, rng: np.random.Generator) -> FaceSample:
        params = self.draw(rng, s.image.shape[1], s.image.shape[0])
        return s if params is None else rotate_scale_translate(s, *params, self.border, self.partial_pose)


def color_matrix(rng: np.random.Generator, mean_rgb: np.ndarray, brightness: float, contrast: float,
                 saturation: float, hue_deg: float) -> np.ndarray:
    """(3, 4) affine colour map (levels) = brightness, contrast, saturation, hue in random order.

    Factors are U(1 - x, 1 + x) like torchvision's ``ColorJitter``; contrast blends with the
    current mean grey level; hue rotates the YIQ chroma plane by U(-hue_deg, hue_deg)
    (a linear stand-in for an HSV hue shift). ``mean_rgb``: (3,) mean colour of the image.
    """
    # Each step is x -> T x + o; the (3, 4) map C = [M | b] accumulates them (C <- T C, then
    # b += o). The scalar steps (brightness, contrast: T = f I) are applied as f * C.
    # One draw of 8 uniforms: the order of the steps (argsort of the first 4) and each
    # step's factor (u[4 + k] for step k). A numba kernel: the ~25 small numpy operations
    # cost ~25 us a sample, the kernel ~4.
    return _color_matrix_kernel(rng.random(8), np.asarray(mean_rgb, np.float64), float(brightness), float(contrast),
                                float(saturation), float(hue_deg), _LUMA, _GREY_PROJ, _HUE_1, _HUE_COS, _HUE_SIN)


@numba.njit(cache=True)
def _color_matrix_kernel(u, mean_rgb, brightness, contrast, saturation, hue_deg, luma, grey_proj, hue_1, hue_cos,
                         hue_sin):  # pragma: no cover - numba
    C = np.eye(3, 4)
    for k in np.argsort(u[:4], kind="mergesort"):
        t = 2.0 * u[4 + k] - 1.0  # U(-1, 1)
        if k == 0 and brightness > 0:
            C *= 1.0 + brightness * t
        elif k == 1 and contrast > 0:
            f = 1.0 + contrast * t
            grey = 0.0  # luma of the current mean colour
            for i in range(3):
                grey += luma[i] * (C[i, 0] * mean_rgb[0] + C[i, 1] * mean_rgb[1] + C[i, 2] * mean_rgb[2] + C[i, 3])
            C *= f
            C[:, 3] += (1 - f) * grey
        elif k == 2 and saturation > 0:
            f = 1.0 + saturation * t
            C = f * C + (1 - f) * (grey_proj @ C)
        elif k == 3 and hue_deg > 0:
            a = math.radians(hue_deg * t)
            C = (hue_1 + math.cos(a) * hue_cos + math.sin(a) * hue_sin) @ C
    return C


@dataclass(frozen=True)
class ColorJitter:
    p: float = 0.8
    brightness: float = 0.3
    contrast: float = 0.3
    saturation: float = 0.3
    hue_deg: float = 10.0

    def __call__(self, s: FaceSample, rng: np.random.Generator) -> FaceSample:
        if rng.random() >= self.p:
            return s
        mean = np.array(cv2.mean(s.image)[:3])
        m = color_matrix(rng, mean, self.brightness, self.contrast, self.saturation, self.hue_deg)
        return s._evolve(image=cv2.transform(s.image, m))  # rounds and saturates to uint8


@dataclass(frozen=True)
class GaussianBlur:
    p: float = 0.1
    sigma_px: tuple[float, float] = (0.3, 1.5)

    def __call__(self, s: FaceSample, rng: np.random.Generator) -> FaceSample:
        if rng.random() >= self.p:
            return s
        return s._evolve(image=cv2.GaussianBlur(s.image, (0, 0), _uniform(rng, self.sigma_px)))


@dataclass(frozen=True)
class GaussianNoise:
    """Additive N(0, std^2) noise per pixel and channel, std U(std_levels) in 8-bit levels."""

    p: float = 0.1
    std_levels: tuple[float, float] = (2.0, 8.0)

    def __call__(self, s: FaceSample, rng: np.random.Generator) -> FaceSample:
        if rng.random() >= self.p:
            return s
        n = s.image.size
        bank = _noise_bank(n)
        start = int(rng.integers(0, bank.size - n + 1))
        noise = bank[start:start + n].reshape(s.image.shape) * _uniform(rng, self.std_levels)
        img = np.rint(s.image.astype(np.float32) + noise)
        return s._evolve(image=np.clip(img, 0, 255).astype(np.uint8))


#: a fixed table of N(0, 1) samples (the same in every process); a noise field is a random
#: window of it, so the result is still a function of ``rng`` alone, and drawing 50k normals
#: per 128 px image (more than the rest of the augmentation costs) is avoided
_NOISE_BANK_SEED = 20240611
_NOISE_BANK: list[np.ndarray] = []


def _noise_bank(n: int) -> np.ndarray:
    size = max(8 * n, 1 << 20)
    if not _NOISE_BANK or _NOISE_BANK[0].size < size:
        _NOISE_BANK[:] = [np.random.default_rng(_NOISE_BANK_SEED).standard_normal(size, dtype=np.float32)]
    return _NOISE_BANK[0]


@dataclass(frozen=True)
class JpegCompression:
    p: float = 0.2
    quality: tuple[int, int] = (40, 95)

    def __call__(self, s: FaceSample, rng: np.random.Generator) -> FaceSample:
        if rng.random() >= self.p:
            return s
        q = int(rng.integers(self.quality[0], self.quality[1] + 1))
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(s.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:  # pragma: no cover
            raise RuntimeError("OpenCV could not encode a JPEG")
        rgb_flag = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV >= 4.10: decode straight to RGB
        if rgb_flag is not None:
            return s._evolve(image=cv2.imdecode(buf, rgb_flag))
        return s._evolve(image=cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))


@dataclass(frozen=True)
class RandomErasing:
    """A rectangle of area U(area_frac) x H W, aspect log-U(aspect), filled with uniform noise.

    Landmarks under it (pixel-centre test) become not visible; ``visible_valid`` unchanged.
    """

    p: float = 0.2
    area_frac: tuple[float, float] = (0.02, 0.15)
    aspect: tuple[float, float] = (0.3, 3.3)

    def __call__(self, s: FaceSample, rng: np.random.Generator) -> FaceSample:
        if rng.random() >= self.p:
            return s
        h, w = s.image.shape[:2]
        area = _uniform(rng, self.area_frac) * h * w
        aspect = float(np.exp(_uniform(rng, np.log(self.aspect))))
        ew = int(min(w, max(1, round(np.sqrt(area * aspect)))))
        eh = int(min(h, max(1, round(np.sqrt(area / aspect)))))
        x0, y0 = int(rng.integers(0, w - ew + 1)), int(rng.integers(0, h - eh + 1))
        img = s.image.copy()
        img[y0:y0 + eh, x0:x0 + ew] = rng.integers(0, 256, (eh, ew, 3), dtype=np.uint8)
        p = s.landmarks
        under = (p[:, 0] >= x0 - 0.5) & (p[:, 0] < x0 + ew - 0.5) & (p[:, 1] >= y0 - 0.5) & (p[:, 1] < y0 + eh - 0.5)
        under &= s.landmark_valid
        return s._evolve(image=img, visible=s.visible & ~under)


# ----------------------------------------------------------------------------- pipeline

Op = Callable[[FaceSample, np.random.Generator], FaceSample]


@dataclass(frozen=True)
class Compose:
    """Apply ``ops`` in order; each draws from the same ``rng`` (so the result is a function of it)."""

    ops: tuple[Op, ...]

    def __call__(self, sample: FaceSample, rng: np.random.Generator) -> FaceSample:
        for op in self.ops:
            sample = op(sample, rng)
        return sample


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities (``*_p``) and ranges of each augmentation; 0 disables one.

    Geometry first (affine, flip), then photometric (colour, blur, noise, JPEG), erasing last.
    Angles in degrees, shifts as a fraction of the image side, noise in 8-bit levels.
    """

    flip_p: float = 0.5
    affine_p: float = 0.8
    rotate_deg: float = 30.0
    scale: tuple[float, float] = (0.9, 1.1)
    translate_frac: float = 0.05
    partial_pose: PartialPosePolicy = "no_rotate"
    border: BorderMode = "replicate"
    color_p: float = 0.8
    brightness: float = 0.3
    contrast: float = 0.3
    saturation: float = 0.3
    hue_deg: float = 10.0
    blur_p: float = 0.1
    blur_sigma_px: tuple[float, float] = (0.3, 1.5)
    noise_p: float = 0.1
    noise_std_levels: tuple[float, float] = (2.0, 8.0)
    jpeg_p: float = 0.2
    jpeg_quality: tuple[int, int] = (40, 95)
    erase_p: float = 0.2
    erase_area_frac: tuple[float, float] = (0.02, 0.15)
    erase_aspect: tuple[float, float] = (0.3, 3.3)

    def __post_init__(self) -> None:
        for name in ("flip_p", "affine_p", "color_p", "blur_p", "noise_p", "jpeg_p", "erase_p"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"AugmentConfig.{name}: expected a probability in [0, 1], got {v}")
        for name in ("scale", "blur_sigma_px", "noise_std_levels", "jpeg_quality", "erase_area_frac", "erase_aspect"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi:
                raise ValueError(f"AugmentConfig.{name}: expected 0 < low <= high, got {(lo, hi)}")
        if self.partial_pose not in ("no_rotate", "keep_yaw", "drop"):
            raise ValueError(f"AugmentConfig.partial_pose: expected no_rotate, keep_yaw or drop, got {self.partial_pose!r}")
        if self.border not in ("replicate", "constant"):
            raise ValueError(f"AugmentConfig.border: expected replicate or constant, got {self.border!r}")


def build_augment(cfg: AugmentConfig) -> Compose:
    """The pipeline of ``cfg`` (ops with probability 0 left out)."""
    ops: list[tuple[float, Op]] = [
        (cfg.affine_p, RandomAffine(cfg.affine_p, cfg.rotate_deg, cfg.scale, cfg.translate_frac,
                                    cfg.partial_pose, cfg.border)),
        (cfg.flip_p, HorizontalFlip(cfg.flip_p)),
        (cfg.color_p, ColorJitter(cfg.color_p, cfg.brightness, cfg.contrast, cfg.saturation, cfg.hue_deg)),
        (cfg.blur_p, GaussianBlur(cfg.blur_p, cfg.blur_sigma_px)),
        (cfg.noise_p, GaussianNoise(cfg.noise_p, cfg.noise_std_levels)),
        (cfg.jpeg_p, JpegCompression(cfg.jpeg_p, cfg.jpeg_quality)),
        (cfg.erase_p, RandomErasing(cfg.erase_p, cfg.erase_area_frac, cfg.erase_aspect)),
    ]
    return Compose(tuple(op for p, op in ops if p > 0))


class _ProcessRng:
    """A Generator seeded with ``(seed, torch.initial_seed())``, created lazily in each process.

    DataLoader workers get distinct streams (torch seeds each worker with base_seed +
    worker_id, the base drawn from the main process's torch RNG, so ``torch.manual_seed``
    makes a run reproducible). Never pickled: a copy re-seeds in its own process.
    """

    def __init__(self, seed: int) -> None:
        self.seed, self._rng, self._pid = int(seed), None, None

    def __getstate__(self) -> dict:
        return {"seed": self.seed, "_rng": None, "_pid": None}

    def __call__(self) -> np.random.Generator:
        if self._rng is None or self._pid != os.getpid():
            import torch

            self._rng = np.random.default_rng([self.seed, torch.initial_seed() % 2**63])
            self._pid = os.getpid()
        return self._rng


class Augment:
    """Dataset transform ``FaceSample -> FaceSample``: the pipeline of ``cfg``.

    Without an explicit ``rng`` it draws from a per-process stream (``_ProcessRng``: seeded
    with ``(seed, torch.initial_seed())``); pass ``rng`` for full control.
    """

    def __init__(self, cfg: AugmentConfig = AugmentConfig(), seed: int = 0) -> None:
        self.cfg = cfg
        self.pipeline = build_augment(cfg)
        self._rng = _ProcessRng(seed)

    def __call__(self, sample: FaceSample, rng: np.random.Generator | None = None) -> FaceSample:
        return self.pipeline(sample, rng if rng is not None else self._rng())


class CropAugment:
    """``face_crop`` + ``Augment`` with ONE warp: the crop, the random affine and the flip are composed.

    For the same ``rng`` it gives the labels of ``face_crop(s, out_size, margin, from_,
    jitter=(rng, *crop_jitter))`` followed by ``build_augment(cfg)`` (the same draws in the
    same order; a test pins it), but the image is interpolated once instead of twice, which
    is sharper and ~0.2 ms cheaper at 128 px; a flip is a mirrored warp (no extra pass).
    ``cfg=None``: crop only. Random stream as ``Augment``.
    """

    def __init__(self, out_size: int, cfg: AugmentConfig | None = AugmentConfig(), *, margin: float = DEFAULT_MARGIN,
                 from_: Literal["landmarks", "bbox"] = "landmarks",
                 crop_jitter: tuple[tuple[float, float], float] | None = ((0.9, 1.1), 0.05), seed: int = 0) -> None:
        self.out_size, self.cfg, self.margin, self.from_, self.crop_jitter = int(out_size), cfg, margin, from_, crop_jitter
        ops = list(build_augment(cfg).ops) if cfg is not None else []
        # build_augment's order: affine, flip, then the photometric ops (which see the warped image)
        self.affine = ops.pop(0) if ops and isinstance(ops[0], RandomAffine) else None
        self.flip = ops.pop(0) if ops and isinstance(ops[0], HorizontalFlip) else None
        self.rest = Compose(tuple(ops))
        self.border: BorderMode = cfg.border if cfg is not None else "replicate"
        self._rng = _ProcessRng(seed)

    def __call__(self, sample: FaceSample, rng: np.random.Generator | None = None) -> FaceSample:
        rng = rng if rng is not None else self._rng()
        S = self.out_size
        centre, side = crop_square(sample, self.margin, self.from_)
        if self.crop_jitter is not None:  # the same draws as face_crop's jitter
            (lo, hi), shift_frac = self.crop_jitter
            u = rng.random(3)
            side *= lo + u[0] * (hi - lo)
            centre = centre + (2 * u[1:] - 1) * shift_frac * side
        A = crop_affine(centre, side, S)
        angle = 0.0
        params = self.affine.draw(rng, S, S) if self.affine is not None else None
        if params is not None:
            angle = _effective_angle(sample, params[0], self.affine.partial_pose)
            B = rotation_affine(angle, params[1], params[2], S, S)
            A = np.hstack([B[:, :2] @ A[:, :2], (B[:, :2] @ A[:, 2] + B[:, 2])[:, None]])
        flip = self.flip is not None and self.flip.draw(rng)
        A_image = A
        if flip:  # then x -> S - 1 - x
            A_image = A * ((-1.0,), (1.0,))
            A_image[0, 2] += S - 1
        out = warp_labels(sample, A, (S, S))._evolve(image=warp_image(sample.image, A_image, (S, S), self.border))
        if params is not None:
            out = rotate_pose(out, angle, self.affine.partial_pose)
        if flip:
            out = _flip_labels(out, S)
        return self.rest(out, rng)
