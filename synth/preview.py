"""Preview images of a 3DMM: the mean and random identities/expressions, landmarks drawn.

A quick look at a model, not the dataset renderer: flat region colours under a head-light,
no background or occluders (those come from ``synth.generate``). Landmarks in the 3D
convention: green where visible, red where hidden by the head itself.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from synth.geometry import euler_to_matrix, intrinsics_from_fov
from synth.labels import landmark_visibility
from synth.morphable import REGION_NAMES, MorphableModel
from synth.raster import vertex_normals
from synth.render import Camera, render_mesh, to_screen

__all__ = ["REGION_PREVIEW_RGB", "render_view", "preview_sheet", "save_png"]

#: Flat preview colour per region (sRGB 0-255), in REGION_NAMES order.
REGION_PREVIEW_RGB = np.array(
    [
        (224, 180, 150),  # skin
        (120, 90, 70),  # scalp
        (214, 170, 140),  # neck
        (220, 170, 145),  # ears
        (190, 90, 90),  # lips
        (90, 65, 50),  # brows
        (205, 160, 135),  # eyelids
        (240, 240, 235),  # sclera
        (70, 110, 160),  # iris
        (80, 20, 25),  # mouth_interior
        (240, 235, 215),  # teeth
        (110, 60, 55),  # nostrils
        (150, 150, 150),  # other
    ],
    dtype=np.float32,
)
assert len(REGION_PREVIEW_RGB) == len(REGION_NAMES)


def render_view(
    model: MorphableModel,
    verts: np.ndarray,
    yaw_deg: float,
    pitch_deg: float = 0.0,
    roll_deg: float = 0.0,
    size: int = 256,
    fov_deg: float = 12.0,
) -> np.ndarray:
    """Render ``verts`` of ``model`` at a pose, framed on the face, landmarks drawn.

    Args:
        verts: (V, 3) model-frame vertices (mm), e.g. ``model.shape(...)``.
        yaw_deg, pitch_deg, roll_deg: pose in the project convention (``synth.geometry``).
        size: output side in pixels.

    Returns:
        (size, size, 3) uint8 RGB.
    """
    R = euler_to_matrix(yaw_deg, pitch_deg, roll_deg)
    lmk = model.landmarks(model.mean_shape)
    centre = (lmk.min(0) + lmk.max(0)) / 2  # frame the face: its centre and ~2x its extent
    radius = 1.05 * float(np.linalg.norm(lmk - centre, axis=1).max()) * 1.9
    dist = radius / np.tan(np.radians(fov_deg) / 2)
    verts_cam = (verts - centre) @ R.T + np.array([0.0, 0.0, -dist])
    camera = Camera(intrinsics_from_fov(fov_deg, size, size), size, size)
    normals = vertex_normals(verts_cam, model.triangles)
    view = -verts_cam / np.linalg.norm(verts_cam, axis=1, keepdims=True)
    lambert = np.abs(np.sum(normals * view, axis=1, keepdims=True))  # two-sided head-light
    color = REGION_PREVIEW_RGB[model.vertex_region] / 255.0 * (0.25 + 0.75 * lambert)
    out = render_mesh(verts_cam, model.triangles, color, camera, supersample=2)
    bg = np.full((size, size, 3), 0.18, dtype=np.float32)
    img = out.rgb + bg * (1.0 - out.alpha[..., None])
    img = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    lmk_scr = to_screen(verts_cam[model.landmarks68], camera)
    visible = landmark_visibility(to_screen(verts_cam[model.landmarks68], out.camera_hi), out.raster,
                                  vertex_ids=model.landmarks68, triangles=model.triangles)
    draw_landmarks(img, lmk_scr[:, :2], visible)
    return img


def draw_landmarks(img: np.ndarray, lmk_px: np.ndarray, visible: np.ndarray, radius: int = 2) -> None:
    """Draw (68, 2) landmarks in place on an RGB uint8 image: green visible, red hidden."""
    for (x, y), vis in zip(lmk_px, visible):
        color = (40, 230, 60) if vis else (235, 40, 40)
        cv2.circle(img, (int(round(x * 4)), int(round(y * 4))), radius * 4, color, -1, cv2.LINE_AA, shift=2)


def _label(img: np.ndarray, text: str) -> None:
    cv2.putText(img, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)


def preview_sheet(model: MorphableModel, rng: np.random.Generator, n_random: int = 2, size: int = 256) -> np.ndarray:
    """A contact sheet: rows mean / random identities / random expressions; columns
    front, three-quarter (yaw 45), profile (yaw 90), looking up-left (yaw -30, pitch 25).

    Returns:
        (rows * size, 4 * size, 3) uint8 RGB.
    """
    poses = [(0, 0, 0), (45, 0, 0), (90, 0, 0), (-30, 25, 10)]
    rows: list[tuple[str, np.ndarray]] = [("mean", model.mean_shape)]
    for i in range(n_random):
        w = rng.standard_normal(model.num_id)
        rows.append((f"identity {i + 1}", model.shape(id_weights=w)))
    for i in range(n_random):
        e = np.zeros(model.num_expr, dtype=np.float32)
        if model.num_expr:
            k = rng.choice(model.num_expr, size=min(3, model.num_expr), replace=False)
            lo, hi = model.expr_range[k, 0], model.expr_range[k, 1]
            e[k] = rng.uniform(np.maximum(lo, 0.4 * hi), hi)
            name = "+".join(model.expr_names[j] for j in k)
        else:
            name = "(no expressions)"
        rows.append((name, model.shape(id_weights=rng.standard_normal(model.num_id) * 0.5, expr_weights=e)))
    tiles = []
    for name, verts in rows:
        row = []
        for yaw, pitch, roll in poses:
            tile = render_view(model, verts, yaw, pitch, roll, size=size)
            _label(tile, f"{name[:34]}  y{yaw} p{pitch} r{roll}")
            row.append(tile)
        tiles.append(np.concatenate(row, axis=1))
    return np.concatenate(tiles, axis=0)


def save_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an RGB uint8 image as PNG (atomically), creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    if not cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"{path}: could not write PNG")
    tmp.replace(path)
    return path
