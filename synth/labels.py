"""Landmark labels from a rendered mesh: visibility and the "2D contour" jawline.

Two 68-point conventions are produced for every sample:

- **3D** (AFLW2000-3D / 300W-LP ``pt3d_68``): fixed model vertices projected, hidden ones
  included.
- **2D contour** (300W / WFLW hand annotation): jaw points 0-7 and 9-16 slide to the face's
  visible outline when the face turns away; all other points equal the 3D convention.

Contour rule (the "landmark marching" of Zhu et al., HPEN, CVPR 2015): each jaw landmark
owns a *parallel*, the face-skin vertices at its height (model frame) between it and the
face's midline, in front of it. In an image the jaw point of a side takes the candidate
that lies furthest outward on that side (along the projected model x axis). In a frontal
view that is the landmark itself; at large yaw it is the point on the cheek silhouette.

Symbols: V vertices, N points.
"""

from __future__ import annotations

import weakref

import numpy as np

from synth.landmarks import group_indices
from synth.morphable import MorphableModel
from synth.raster import RasterOutput

__all__ = ["landmark_visibility", "ContourTable", "contour_table"]

_JAW = group_indices("jaw")
#: jaw landmarks that march: the subject's right side (0-7) and left side (9-16); 8 is the chin.
JAW_RIGHT = _JAW[:8]
JAW_LEFT = _JAW[9:]


def landmark_visibility(points_scr: np.ndarray, raster: RasterOutput, tol_mm: float = 3.0) -> np.ndarray:
    """Whether each point is the nearest surface at its pixel (not self-occluded).

    Args:
        points_scr: (N, 3) float (u px, v px, depth mm) in the raster's pixel grid.
        raster: the depth buffer of the scene the points belong to.
        tol_mm: depth slack: a point counts as visible when no surface at its pixel (or at
            one of the 8 neighbours, to absorb sub-pixel offsets on slanted surfaces) lies
            more than ``tol_mm`` in front of it.

    Returns:
        (N,) bool; points outside the image are not visible.
    """
    pts = np.asarray(points_scr, dtype=np.float64)
    h, w = raster.depth.shape
    col = np.rint(pts[:, 0]).astype(np.int64)
    row = np.rint(pts[:, 1]).astype(np.int64)
    inside = (col >= 0) & (col < w) & (row >= 0) & (row < h) & (pts[:, 2] > 0)
    visible = np.zeros(len(pts), dtype=bool)
    padded = np.pad(raster.depth, 1, constant_values=np.inf)
    for k in np.flatnonzero(inside):
        window = padded[row[k] : row[k] + 3, col[k] : col[k] + 3]
        visible[k] = window.max() >= pts[k, 2] - tol_mm
    return visible


class ContourTable:
    """Per-model parallels for the jaw landmarks (computed once from the mean shape).

    Attributes:
        parallels: dict jaw landmark index -> (P,) int64 candidate vertex indices.
    """

    def __init__(self, model: MorphableModel, band_mm: float | None = None) -> None:
        verts = model.mean_shape.astype(np.float64)
        face = model.region_mask("skin")
        face[model.contour_right] = True
        face[model.contour_left] = True
        if band_mm is None:  # a band a few edges wide whatever the mesh density
            e = verts[model.triangles[:, 0]] - verts[model.triangles[:, 1]]
            band_mm = max(2.0, 1.5 * float(np.median(np.linalg.norm(e, axis=1))))
        self.parallels: dict[int, np.ndarray] = {}
        for j in np.concatenate([JAW_RIGHT, JAW_LEFT]):
            p = verts[model.landmarks68[j]]
            side = np.sign(p[0]) if p[0] != 0 else (-1.0 if j in JAW_RIGHT else 1.0)
            cand = (
                face
                & (np.abs(verts[:, 1] - p[1]) <= band_mm)
                & (verts[:, 0] * side >= 0)
                & (verts[:, 0] * side <= abs(p[0]) + 1e-6)
                & (verts[:, 2] >= p[2] - 1e-6)
            )
            idx = np.flatnonzero(cand)
            self.parallels[int(j)] = np.union1d(idx, [model.landmarks68[j]]).astype(np.int64)

    def contour_vertices(self, model: MorphableModel, uv_px: np.ndarray, R_cam_from_model: np.ndarray) -> np.ndarray:
        """Vertex index of each of the 68 landmarks in the 2D contour convention.

        Args:
            model: the model this table was built for.
            uv_px: (V, 2) projected vertices of the posed mesh (any pixel grid).
            R_cam_from_model: (3, 3) head rotation (``synth.geometry`` convention).

        Returns:
            (68,) int64 vertex indices (equal to ``model.landmarks68`` except marching jaw points).
        """
        out = model.landmarks68.astype(np.int64).copy()
        # Image direction of the model's +x axis (toward the subject's left). v is down, so
        # the camera's y component flips sign in the image.
        ax = np.asarray(R_cam_from_model, dtype=np.float64)[:, 0]
        left_dir = np.array([ax[0], -ax[1]])
        norm = np.linalg.norm(left_dir)
        if norm < 1e-6:  # looking along the model x axis: outward is undefined, keep 3D points
            return out
        left_dir /= norm
        for j, cand in self.parallels.items():
            outward = -left_dir if j in JAW_RIGHT else left_dir
            out[j] = cand[np.argmax(uv_px[cand] @ outward)]
        return out


_TABLES: "weakref.WeakKeyDictionary[MorphableModel, ContourTable]" = weakref.WeakKeyDictionary()


def contour_table(model: MorphableModel) -> ContourTable:
    """The (cached) ``ContourTable`` of a model."""
    table = _TABLES.get(model)
    if table is None:
        table = _TABLES[model] = ContourTable(model)
    return table
