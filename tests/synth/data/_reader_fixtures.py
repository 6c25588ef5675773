"""Tiny datasets written in each reader's official layout (exact names, shapes, dtypes, headers).

Each ``write_*`` writes one format; ``BUILDERS`` maps every registered reader name to a
function ``(tmp_dir) -> (root, options)`` building a small valid dataset, for the contract
test over the registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import scipy.io

N68 = 68


def write_image(path: Path, h: int = 48, w: int = 64, seed: int = 0) -> Path:
    """A random (h, w) colour JPEG/PNG (by suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    if not cv2.imwrite(str(path), img):
        raise RuntimeError(f"could not write {path}")
    return path


def face68(cx: float = 32.0, cy: float = 24.0, s: float = 10.0, seed: int = 0) -> np.ndarray:
    """(68, 2) float64 distinct points around (cx, cy)."""
    rng = np.random.default_rng(seed)
    return np.stack([cx + s * rng.uniform(-1, 1, N68), cy + s * rng.uniform(-1, 1, N68)], 1)


# -- AFLW2000-3D / 300W-LP ------------------------------------------------------------------
def write_3ddfa_mat(path: Path, pitch_rad: float, yaw_rad: float, roll_rad: float,
                    pt3d_68: np.ndarray | None = None, pt2d: np.ndarray | None = None) -> Path:
    """A 3DDFA-style ``.mat`` as in AFLW2000-3D: Pose_Para (1, 7) float32, pt3d_68 (3, 68) float32,
    pt2d (2, 21) float64, roi (1, 4) int16."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mdict = {
        "Pose_Para": np.array([[pitch_rad, yaw_rad, roll_rad, 200.0, 190.0, -100.0, 0.0013]], np.float32),
        "pt2d": pt2d if pt2d is not None else np.full((2, 21), -1.0),
        "roi": np.array([[-44, -207, 2658, 2495]], np.int16),
        "Shape_Para": np.zeros((199, 1)),
    }
    if pt3d_68 is not None:
        mdict["pt3d_68"] = np.asarray(pt3d_68, np.float32)
    scipy.io.savemat(str(path), mdict)
    return path


def build_aflw2000(tmp: Path) -> tuple[Path, dict]:
    root = tmp / "AFLW2000"
    for k, (pitch, yaw, roll) in enumerate([(0.1, 0.2, -0.05), (-0.3, -0.6, 0.2)]):
        write_image(root / f"image{k:05d}.jpg", seed=k)
        pts = face68(seed=k)
        write_3ddfa_mat(root / f"image{k:05d}.mat", pitch, yaw, roll, np.vstack([pts.T, np.zeros((1, N68))]))
    return root, {}


def build_300w_lp(tmp: Path) -> tuple[Path, dict]:
    root = tmp / "300W_LP"
    write_image(root / "AFW" / "AFW_1_0.jpg")
    write_3ddfa_mat(root / "AFW" / "AFW_1_0.mat", 0.1, 1.9, 0.0, pt2d=face68().T)  # yaw 109 deg: kept
    side = root / "landmarks" / "AFW" / "AFW_1_0_pts.mat"
    side.parent.mkdir(parents=True)
    scipy.io.savemat(str(side), {"pts_2d": face68(seed=1), "pts_3d": face68(seed=2)})
    write_image(root / "AFW_Flip" / "AFW_1_0.jpg")
    write_3ddfa_mat(root / "AFW_Flip" / "AFW_1_0.mat", 0.1, -0.5, 0.0)  # no landmarks anywhere
    return root, {}


# -- 300W .pts -----------------------------------------------------------------------------------
def pts_text(points_1based: np.ndarray, n_points: int | None = None) -> str:
    n = len(points_1based) if n_points is None else n_points
    body = "".join(f"{x:.3f} {y:.3f}\n" for x, y in points_1based)
    return f"version: 1\nn_points:  {n}\n{{\n{body}}}\n"


def build_ibug(tmp: Path) -> tuple[Path, dict]:
    root = tmp / "300W"
    for k, sub in enumerate(["afw", "helen/trainset"]):
        write_image(root / sub / f"img{k}.jpg", seed=k)
        (root / sub / f"img{k}.pts").write_text(pts_text(face68(seed=k) + 1.0))
    write_image(root / "afw" / "unannotated.jpg")
    return root, {}


# -- WFLW ----------------------------------------------------------------------------------------
def wflw_line(points98: np.ndarray, box=(1, 2, 60, 45), flags=(0, 1, 0, 0, 1, 0), rel="0--Parade/0_Parade_1.jpg") -> str:
    coords = " ".join(f"{v:.6f}" for v in np.asarray(points98, np.float64).reshape(-1))
    return f"{coords} {' '.join(map(str, box))} {' '.join(map(str, flags))} {rel}"


def write_wflw(root: Path, lines: list[str], split: str = "train") -> Path:
    ann = root / "WFLW_annotations" / "list_98pt_rect_attr_train_test" / f"list_98pt_rect_attr_{split}.txt"
    ann.parent.mkdir(parents=True, exist_ok=True)
    ann.write_text("\n".join(lines) + "\n")
    return ann


def build_wflw(tmp: Path) -> tuple[Path, dict]:
    root = tmp / "WFLW"
    rng = np.random.default_rng(0)
    write_image(root / "WFLW_images" / "0--Parade" / "0_Parade_1.jpg")
    write_image(root / "WFLW_images" / "1--Handshaking" / "1_Handshaking_2.jpg", seed=1)
    write_wflw(root, [
        wflw_line(rng.uniform(5, 40, (98, 2))),
        wflw_line(rng.uniform(5, 40, (98, 2)), flags=(1, 0, 0, 0, 0, 0), rel="1--Handshaking/1_Handshaking_2.jpg"),
        wflw_line(rng.uniform(5, 40, (98, 2)), flags=(1, 0, 0, 0, 0, 1), rel="1--Handshaking/1_Handshaking_2.jpg"),
    ])
    return root, {"split": "train"}


# -- CelebA -------------------------------------------------------------------------------------
#: The first row of list_landmarks_align_celeba.txt (000001.jpg).
CELEBA_ROW_000001 = (69, 109, 106, 113, 77, 142, 73, 152, 108, 154)
CELEBA_HEADER = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y"


def write_celeba(root: Path, rows: dict[str, tuple], aligned: bool = True, boxes: dict[str, tuple] | None = None,
                 count: int | None = None, partition: dict[str, int] | None = None) -> None:
    """Official layout: Anno/ lists, Img/<img folder>/, Eval/list_eval_partition.txt."""
    anno = root / "Anno"
    anno.mkdir(parents=True, exist_ok=True)
    name = "list_landmarks_align_celeba.txt" if aligned else "list_landmarks_celeba.txt"
    body = "".join(f"{n} " + " ".join(f"{v:>4d}" for v in r) + "\n" for n, r in rows.items())
    (anno / name).write_text(f"{len(rows) if count is None else count}\n{CELEBA_HEADER}\n{body}")
    if boxes is not None:
        bb = "".join(f"{n} " + " ".join(str(v) for v in b) + "\n" for n, b in boxes.items())
        (anno / "list_bbox_celeba.txt").write_text(f"{len(boxes)}\nimage_id x_1 y_1 width height\n{bb}")
    if partition is not None:
        (root / "Eval").mkdir(exist_ok=True)
        (root / "Eval" / "list_eval_partition.txt").write_text("".join(f"{n} {p}\n" for n, p in partition.items()))
    for k, n in enumerate(rows):
        write_image(root / "Img" / ("img_align_celeba" if aligned else "img_celeba") / n, h=218, w=178, seed=k)


def build_celeba(tmp: Path) -> tuple[Path, dict]:
    root = tmp / "CelebA"
    write_celeba(root, {"000001.jpg": CELEBA_ROW_000001, "000002.jpg": (70, 110, 105, 112, 88, 135, 72, 150, 104, 151)})
    return root, {}


# -- AFLW crops -----------------------------------------------------------------------------------
def write_aflw_crops(root: Path, names: list[str], yaw_deg: np.ndarray, pts21: np.ndarray, roi_box: np.ndarray) -> None:
    """``images/*.jpg`` (120x120) + ``labels.npz`` with the shared file's keys and dtypes."""
    for k, n in enumerate(names):
        write_image(root / "images" / n, h=120, w=120, seed=k)
    np.savez(root / "labels.npz", names=np.array(names), yaw_deg=np.asarray(yaw_deg, np.float32),
             pts21=np.asarray(pts21, np.float32), roi_box=np.asarray(roi_box, np.int32))


def build_aflw_crops(tmp: Path) -> tuple[Path, dict]:
    root = tmp / "aflw-crops"
    rng = np.random.default_rng(0)
    pts = rng.uniform(120, 300, (2, 2, 21))
    pts[1, :, 12] = (-1, 452)
    write_aflw_crops(root, ["image00001.jpg", "image00002.jpg"], np.array([10.0, -95.0]), pts,
                     np.array([[100, 100, 340, 340], [90, 80, 330, 320]]))
    return root, {}


def build_image_folder(tmp: Path) -> tuple[Path, dict]:
    root = tmp / "faces"
    write_image(root / "a.png")
    write_image(root / "sub" / "b.JPG", seed=1)
    write_image(root / "sub" / "c.webp", seed=2)
    (root / "notes.txt").write_text("not an image")
    return root, {}


BUILDERS: dict[str, Callable[[Path], tuple[Path, dict]]] = {
    "aflw2000": build_aflw2000,
    "300w_lp": build_300w_lp,
    "ibug": build_ibug,
    "wflw": build_wflw,
    "celeba": build_celeba,
    "aflw_crops": build_aflw_crops,
    "image_folder": build_image_folder,
}
