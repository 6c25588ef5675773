"""User-supplied RGBA occluders: images with alpha from a folder, pasted over the face.

Each image is flipped at random, scaled so its longer side is ``scale`` x the face size,
rotated by N(0, 20 deg) and centred within +-0.35 face sizes of the landmarks' centroid.
Warping is done on premultiplied colour so edges get no dark or bright fringes.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from synth.scene.compose import PremulCanvas, Window, nonzero_roi
from synth.scene.image_folder import RGBA_SUFFIXES, ImageFolder
from synth.scene.occluders._face import FaceFrame


class RGBAFolder(ImageFolder):
    """RGBA occluder images under a folder (recursive; png/webp); holds paths only.

    Images without an alpha channel are used as fully opaque rectangles.
    """

    def __init__(self, root: Path | str):
        super().__init__(root, RGBA_SUFFIXES, "rgba occluder")


def draw(rng: np.random.Generator, face: FaceFrame, hw: tuple[int, int], folder: ImageFolder,
         scale: tuple[float, float]) -> PremulCanvas:
    i = int(rng.integers(len(folder)))
    flip = rng.random() < 0.5
    side_px = rng.uniform(*scale) * face.size_px
    angle_deg = rng.normal(0.0, 20.0)
    centre = face.lmk.mean(0) + rng.uniform(-0.35, 0.35, 2) * face.size_px
    rgb, alpha = folder.read_rgba(i)
    if flip:
        rgb, alpha = rgb[:, ::-1], alpha[:, ::-1]
    s = side_px / max(rgb.shape[:2])
    if s < 0.5:  # shrink with area averaging first; the warp below then scales by ~1
        size = (max(1, round(rgb.shape[1] * s)), max(1, round(rgb.shape[0] * s)))
        rgb = cv2.resize(np.ascontiguousarray(rgb), size, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(np.ascontiguousarray(alpha), size, interpolation=cv2.INTER_AREA)
        s = side_px / max(rgb.shape[:2])
    src_c = ((rgb.shape[1] - 1) / 2.0, (rgb.shape[0] - 1) / 2.0)
    m = cv2.getRotationMatrix2D(src_c, float(angle_deg), float(s))
    m[:, 2] += centre - np.array(src_c)
    corners = np.array([(-0.5, -0.5), (rgb.shape[1] - 0.5, -0.5), (-0.5, rgb.shape[0] - 0.5),
                        (rgb.shape[1] - 0.5, rgb.shape[0] - 0.5)]) @ m[:, :2].T + m[:, 2]
    win = Window.around(hw, [corners])
    m[:, 2] -= win.origin  # warp into the window
    premul = rgb.astype(np.float32) * cv2.cvtColor(np.ascontiguousarray(alpha), cv2.COLOR_GRAY2RGB)
    h, w = win.shape
    canvas = PremulCanvas(win)
    warped = cv2.warpAffine(premul, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    canvas.planes = np.ascontiguousarray(np.moveaxis(warped, -1, 0))
    canvas.alpha = np.clip(cv2.warpAffine(alpha, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0), 0.0, 1.0)
    roi = nonzero_roi(canvas.alpha)
    if roi is not None:
        canvas.roi = (roi[0].start, roi[0].stop, roi[1].start, roi[1].stop)
    return canvas
