"""Contact sheets of a synthetic dataset: images with landmarks and pose axes drawn.

Landmarks: green = visible, red = hidden by the head, orange = under an occluder (3D
convention), small cyan dots = the 2D contour jaw points where they differ; unlabelled
points (``lmk_valid`` False) are not drawn. Pose axes from
the head origin (camera frame, projected with the crop intrinsics): model x (toward the
subject's left) red, y (up) green, z (out of the face) blue; the text line gives
yaw/pitch/roll in degrees.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import h5py
import numpy as np

from synth.errors import UserError
from synth.geometry import project_points
from synth.schema import read_image

__all__ = ["draw_sample", "contact_sheet", "dataset_files"]

_VISIBLE, _SELF, _OCC, _CONTOUR = (40, 230, 60), (235, 40, 40), (255, 160, 0), (0, 220, 255)


def draw_sample(image: np.ndarray, labels: dict[str, np.ndarray], axis_mm: float = 90.0) -> np.ndarray:
    """Draw one sample's labels on a copy of its RGB uint8 image (scaled to >= 192 px)."""
    scale = max(1, int(np.ceil(192 / image.shape[0])))
    img = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST) if scale > 1 else image.copy()

    def pt(p: np.ndarray) -> tuple[int, int]:  # pixel centre convention -> scaled, 2 fractional bits
        return int(round(((p[0] + 0.5) * scale - 0.5) * 4)), int(round(((p[1] + 0.5) * scale - 0.5) * 4))

    lmk = labels["lmk2d"]
    valid = labels.get("lmk_valid", np.ones(len(lmk), bool))
    if "rotation" in labels and "translation_mm" in labels and "intrinsics" in labels:
        R, t, K = labels["rotation"].astype(np.float64), labels["translation_mm"].astype(np.float64), labels["intrinsics"].astype(np.float64)
        ends = project_points(np.vstack([t, t + axis_mm * R.T]), K)
    elif "rotation" in labels and valid.any():  # no camera: orthographic axes at the face centre
        R = labels["rotation"].astype(np.float64)
        lo, hi = lmk[valid].min(0), lmk[valid].max(0)
        centre, length = (lo + hi) / 2, 0.5 * float(max(hi - lo))
        ends = np.vstack([centre, centre + length * np.column_stack([R[0], -R[1]])])  # image v is down
    else:
        ends = None
    if ends is not None:
        for k, color in enumerate(((230, 40, 40), (40, 200, 40), (60, 90, 255))):
            cv2.line(img, pt(ends[0]), pt(ends[k + 1]), color, 2, cv2.LINE_AA, shift=2)
    vis = labels.get("visible", np.ones(len(lmk), bool))
    occ = labels.get("occluded", np.zeros(len(lmk), bool))
    if "lmk2d_contour" in labels:
        moved = np.linalg.norm(labels["lmk2d_contour"] - lmk, axis=1) > 0.5
        for p in labels["lmk2d_contour"][moved]:
            cv2.circle(img, pt(p), 4, _CONTOUR, -1, cv2.LINE_AA, shift=2)
    for p, v, o, ok in zip(lmk, vis, occ, valid):
        if ok:
            cv2.circle(img, pt(p), 6, _VISIBLE if v else (_OCC if o else _SELF), -1, cv2.LINE_AA, shift=2)
    if "euler_deg" in labels:
        known = labels.get("euler_valid", np.ones(3, bool))
        text = " ".join(f"{c}{a:.0f}" if k else f"{c}?" for c, a, k in zip("ypr", labels["euler_deg"], known))
        cv2.putText(img, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def dataset_files(path: str | Path) -> list[Path]:
    """A merged file, a single shard, or every complete shard in a folder (sorted)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("shard-*.h5"))
        if not files:
            raise UserError(f"{path}: no shard-*.h5 files in this folder")
        return files
    if not path.is_file():
        raise UserError(f"{path}: no such dataset file or folder")
    return [path]


def contact_sheet(path: str | Path, n: int = 24, columns: int = 6, seed: int = 0) -> np.ndarray:
    """A grid of ``n`` random samples of a dataset with their labels drawn.

    Returns:
        (rows * T, columns * T, 3) uint8 RGB, T the drawn tile size.
    """
    files = dataset_files(path)
    items: list[tuple[Path, int]] = []
    for f in files:
        with h5py.File(f, "r") as h:
            if "image" not in h:
                raise UserError(f"{f}: no 'image' dataset (not a facesynth dataset?)")
            items += [(f, i) for i in range(h["image"].shape[0])]
    if not items:
        raise UserError(f"{path}: the dataset holds no samples")
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(items), size=min(n, len(items)), replace=False))
    tiles = []
    handles: dict[Path, h5py.File] = {}
    try:
        for k in pick:
            f, i = items[k]
            h = handles.setdefault(f, h5py.File(f, "r"))
            labels = {key: h[key][i] for key in ("lmk2d", "lmk2d_contour", "visible", "occluded", "rotation",
                                                 "translation_mm", "intrinsics", "euler_deg") if key in h}
            tiles.append(draw_sample(read_image(h["image"], i), labels))
    finally:
        for h in handles.values():
            h.close()
    t = tiles[0].shape[0]
    while len(tiles) % columns:
        tiles.append(np.zeros((t, t, 3), np.uint8))
    rows = [np.concatenate(tiles[r : r + columns], axis=1) for r in range(0, len(tiles), columns)]
    return np.concatenate(rows, axis=0)
