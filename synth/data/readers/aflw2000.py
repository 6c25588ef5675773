"""AFLW2000-3D and 300W-LP: ``NAME.jpg`` + ``NAME.mat`` fitted by 3DDFA (Zhu et al., CVPR 2016).

Layout (searched recursively under ``root``, sorted by relative path)::

    root/**/NAME.jpg          the photo (AFLW2000-3D: 450x450, one face)
    root/**/NAME.mat          MATLAB v5: Pose_Para (1, 7), pt3d_68 (3, 68), pt2d, roi, 3DMM params
    root/landmarks/**/NAME_pts.mat   (300W-LP only, optional) pts_3d (68, 2): used if NAME.mat
                                     has no pt3d_68

AFLW2000-3D has ``pt3d_68`` in each image's own ``.mat``; 300W-LP keeps its subfolders
(AFW, HELEN, IBUG, LFPW and the ``*_Flip`` copies) and has the 68 points in a separate
``landmarks/`` tree (none for the ``_Flip`` folders): where neither is present the sample has
pose only (landmarks masked out). The ``landmarks/`` layout follows the 300W-LP release notes
and has not been checked on the real 300W-LP files (none are available here).

Conversion
    - ``Pose_Para[0, :3]`` is (pitch, yaw, roll) in radians; the project's ``euler_deg`` is
      (yaw, pitch, roll) in degrees. ``synth.geometry.euler_to_matrix`` builds the same
      matrix as the dataset's ``RotationMatrix.m`` (pinned by a test on the real files), so
      only units and order change. ``rotation`` = that matrix (R_cam_from_model).
    - landmarks = ``pt3d_68[:2].T``: image pixels, 0-based, the "3d" convention (jaw points are
      fixed model points, projected even where hidden). Visibility is unknown.
    - bbox = tight box of the 68 points (the box the 3DDFA NME protocol normalises by).

Filter
    ``max_abs_angle_deg`` (default 99 for AFLW2000-3D): samples with any |yaw|, |pitch| or
    |roll| above it are left out of the listing. This is the standard protocol (Hopenet,
    FSA-Net, 6DRepNet, ...) that drops AFLW2000's 31 badly fitted samples; ``None`` keeps
    all. Every ``.mat`` is read once at init to apply it; the labels (a few hundred bytes per
    sample) are kept in memory. Filtered samples are counted in ``num_filtered`` (not
    ``num_skipped``: they are not malformed).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from synth.data.readers import FaceReader, bbox_from_points, read_image_rgb, register_reader
from synth.data.record import FaceSample
from synth.geometry import euler_to_matrix
from synth.landmarks import NUM_LANDMARKS

__all__ = ["Aflw2000Reader", "W300LPReader", "load_pose_para"]

logger = logging.getLogger(__name__)

_IMAGE_EXTS = (".jpg", ".jpeg", ".png")


def load_pose_para(mat: dict, where: str) -> np.ndarray:
    """(yaw, pitch, roll) degrees float64 (3,) from a loaded 3DDFA ``.mat`` dict.

    Raises:
        ValueError: ``Pose_Para`` missing, not 7 finite values (message names ``where``).
    """
    if "Pose_Para" not in mat:
        raise ValueError(f"{where}: field Pose_Para missing; expected 1x7 (pitch, yaw, roll [rad], tx, ty, tz, scale)")
    pp = np.asarray(mat["Pose_Para"], np.float64)
    if pp.size != 7 or not np.all(np.isfinite(pp)):
        raise ValueError(f"{where}: Pose_Para must be 1x7 finite values (pitch, yaw, roll [rad], tx, ty, tz, scale), got shape {pp.shape}")
    pitch, yaw, roll = pp.reshape(-1)[:3]
    return np.rad2deg(np.array([yaw, pitch, roll]))


def _points_68(arr: np.ndarray, field: str, where: str) -> np.ndarray:
    """(68, 2) float64 from a (>=2, 68) or (68, >=2) array; ValueError naming the field otherwise."""
    a = np.asarray(arr, np.float64)
    if a.ndim == 2 and a.shape[1] == NUM_LANDMARKS and a.shape[0] in (2, 3):
        a = a[:2].T
    elif a.ndim == 2 and a.shape[0] == NUM_LANDMARKS and a.shape[1] in (2, 3):
        a = a[:, :2]
    else:
        raise ValueError(f"{where}: {field} must be 3x68 (x, y [px, 0-based], z) or 68x2, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{where}: {field} has non-finite values")
    return a


@register_reader("aflw2000")
class Aflw2000Reader(FaceReader):
    """AFLW2000-3D (and any folder of 3DDFA-style ``NAME.jpg`` + ``NAME.mat``).

    Args:
        root: the dataset folder (searched recursively).
        max_abs_angle_deg: drop samples with any |angle| above this (degrees); None keeps all.
        skip_bad: log and skip malformed ``.mat`` files / unreadable images.

    Attributes:
        euler_deg: (N, 3) float32 yaw, pitch, roll degrees of the listed samples.
        landmarks_px: (N, 68, 2) float32 (zeros where ``landmark_valid`` is False).
        landmark_valid: (N,) bool, the sample has 68 landmarks.
        num_filtered: samples left out by ``max_abs_angle_deg``.
    """

    source = "aflw2000"

    def __init__(self, root: str | Path, *, max_abs_angle_deg: float | None = 99.0, skip_bad: bool = False) -> None:
        super().__init__(root, skip_bad=skip_bad)
        import scipy.io

        self.max_abs_angle_deg = max_abs_angle_deg
        self.num_filtered = 0
        eulers, lmks, lvalid = [], [], []
        for mat_path in sorted(self.root.rglob("*.mat")):
            rel = mat_path.relative_to(self.root)
            if rel.parts[0] == "landmarks" or mat_path.stem.endswith("_pts"):
                continue  # 300W-LP landmark sidecars, not samples
            image = next((mat_path.with_suffix(e) for e in _IMAGE_EXTS if mat_path.with_suffix(e).is_file()), None)
            if image is None:
                self._bad(f"{mat_path}: no image next to it; expected {mat_path.stem}.jpg (or .jpeg/.png)")
                continue
            try:
                mat = scipy.io.loadmat(str(mat_path), variable_names=["Pose_Para", "pt3d_68"])
            except Exception as e:  # scipy raises ValueError/TypeError/OSError/MatReadError on bad files
                self._bad(f"{mat_path}: cannot read MATLAB file ({type(e).__name__}: {e}); expected a MATLAB v5 .mat with Pose_Para and pt3d_68")
                continue
            try:
                euler = load_pose_para(mat, str(mat_path))
                pts = self._landmarks(mat, mat_path, rel, scipy.io)
            except ValueError as e:
                self._bad(str(e))
                continue
            if max_abs_angle_deg is not None and np.any(np.abs(euler) > max_abs_angle_deg):
                self.num_filtered += 1
                continue
            self._items.append((str(image), str(rel.with_suffix(""))))
            eulers.append(euler)
            lmks.append(pts if pts is not None else np.zeros((NUM_LANDMARKS, 2)))
            lvalid.append(pts is not None)
        if self.num_filtered:
            logger.info("%s: left out %d samples with an |angle| > %s deg", self.root, self.num_filtered, max_abs_angle_deg)
        self.euler_deg = np.asarray(eulers, np.float32).reshape(-1, 3)
        self.landmarks_px = np.asarray(lmks, np.float32).reshape(-1, NUM_LANDMARKS, 2)
        self.landmark_valid = np.asarray(lvalid, bool)

    def _landmarks(self, mat: dict, mat_path: Path, rel: Path, scipy_io) -> np.ndarray | None:
        """(68, 2) from ``pt3d_68`` or the 300W-LP sidecar ``landmarks/**/NAME_pts.mat``; None if neither."""
        if "pt3d_68" in mat:
            return _points_68(mat["pt3d_68"], "pt3d_68", str(mat_path))
        sidecar = self.root / "landmarks" / rel.parent / f"{mat_path.stem}_pts.mat"
        if not sidecar.is_file():
            return None
        try:
            side = scipy_io.loadmat(str(sidecar), variable_names=["pts_3d"])
        except Exception as e:
            raise ValueError(f"{sidecar}: cannot read MATLAB file ({type(e).__name__}); expected pts_3d (68x2)") from None
        if "pts_3d" not in side:
            raise ValueError(f"{sidecar}: field pts_3d missing; expected 68x2 landmarks")
        return _points_68(side["pts_3d"], "pts_3d", str(sidecar))

    def _load(self, i: int) -> FaceSample:
        image_path, name = self._items[i]
        image = read_image_rgb(Path(image_path))
        yaw, pitch, roll = (float(a) for a in self.euler_deg[i])
        valid = bool(self.landmark_valid[i])
        return FaceSample(
            image=image,
            landmarks=self.landmarks_px[i],
            landmark_valid=np.full(NUM_LANDMARKS, valid),
            euler_deg=self.euler_deg[i],
            euler_valid=np.ones(3, bool),
            rotation=euler_to_matrix(yaw, pitch, roll).astype(np.float32),
            rotation_valid=True,
            bbox=bbox_from_points(self.landmarks_px[i]),
            bbox_valid=valid,
            convention="3d",
            source=self.source,
            name=name,
        )


@register_reader("300w_lp")
class W300LPReader(Aflw2000Reader):
    """300W-LP (training set of 3DDFA / Hopenet): same files as AFLW2000-3D, no angle filter by default."""

    source = "300w_lp"

    def __init__(self, root: str | Path, *, max_abs_angle_deg: float | None = None, skip_bad: bool = False) -> None:
        super().__init__(root, max_abs_angle_deg=max_abs_angle_deg, skip_bad=skip_bad)
