"""Landmark labels from a rendered mesh: visibility and the "2D contour" jawline.

Two 68-point conventions are produced for every sample:

- **3D** (AFLW2000-3D / 300W-LP ``pt3d_68``): fixed model vertices projected, hidden ones
  included.
- **2D contour** (300W / WFLW hand annotation): jaw points 0-7 and 9-16 slide to the face's
  visible outline when the face turns away; all other points equal the 3D convention.

Contour rule (the "landmark marching" of Zhu et al., HPEN, CVPR 2015): each jaw landmark
owns a *parallel*, the face-skin vertices at its height (model frame) between it and the
face's midline, in front of it, keeping clear of the midline (|x| >= 0.3 |x_landmark|, so
that the nose is never taken for the cheek outline). In an image the jaw point of a side
takes the *visible* candidate that lies furthest outward on that side (along the projected
model x axis), or the furthest outward one if none is visible. In a frontal view that is
the landmark itself; at large yaw it is the point on the visible outline of the cheek
(against the background, or where the cheek disappears behind the nose).

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


def landmark_visibility(
    points_scr: np.ndarray,
    raster: RasterOutput,
    tol_mm: float = 3.0,
    vertex_ids: np.ndarray | None = None,
    triangles: np.ndarray | None = None,
) -> np.ndarray:
    """Whether each point is the nearest surface at its pixel (not self-occluded).

    Looking at the 3 x 3 pixels around its projection (to absorb sub-pixel offsets), a point
    is visible when one of them shows its own surface (depth within ``tol_mm``, or, if
    ``vertex_ids`` and ``triangles`` are given, a triangle around its vertex within
    ``4 * tol_mm``: this holds on steep silhouettes where depth changes fast across a
    pixel), or when none of them shows
    a surface in front of it (a vertex on a sliver too thin to cover a pixel centre is not
    hidden by anything). Otherwise it is self-occluded.

    Args:
        points_scr: (N, 3) float (u px, v px, depth mm) in the raster's pixel grid.
        raster: the depth buffer of the scene the points belong to.
        tol_mm: depth slack.
        vertex_ids: (N,) mesh vertex of each point, optional.
        triangles: (F, 3) the rasterized triangles, needed with ``vertex_ids``.

    Returns:
        (N,) bool; points outside the image are not visible.
    """
    pts = np.asarray(points_scr, dtype=np.float64)
    h, w = raster.depth.shape
    col = np.rint(pts[:, 0]).astype(np.int64)
    row = np.rint(pts[:, 1]).astype(np.int64)
    inside = (col >= 0) & (col < w) & (row >= 0) & (row < h) & (pts[:, 2] > 0)
    tris = None if vertex_ids is None or triangles is None else np.asarray(triangles)
    ids = None if tris is None else np.asarray(vertex_ids)[:, None]
    hit = np.zeros(len(pts), dtype=bool)
    covered = np.zeros(len(pts), dtype=bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            rr, cc = row + dr, col + dc
            ok = inside & (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
            rr, cc = np.where(ok, rr, 0), np.where(ok, cc, 0)
            d = np.where(ok, raster.depth[rr, cc], np.inf)
            hit |= np.abs(d - pts[:, 2]) <= tol_mm
            covered |= d < pts[:, 2] - tol_mm
            if tris is not None:
                tri = np.where(ok, raster.tri_id[rr, cc], -1)
                own = (tris[np.maximum(tri, 0)] == ids).any(axis=1)
                hit |= (tri >= 0) & own & (np.abs(d - pts[:, 2]) <= 4 * tol_mm)
    return inside & (hit | ~covered)


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
                & (verts[:, 0] * side >= 0.3 * abs(p[0]))
                & (verts[:, 0] * side <= abs(p[0]) + 1e-6)
                & (verts[:, 2] >= p[2] - 1e-6)
            )
            idx = np.flatnonzero(cand)
            self.parallels[int(j)] = np.union1d(idx, [model.landmarks68[j]]).astype(np.int64)
        #: (P,) every vertex of any parallel (the ones whose visibility the caller tests)
        self.candidates: np.ndarray = np.unique(np.concatenate(list(self.parallels.values())))

    def contour_vertices(
        self,
        model: MorphableModel,
        uv_px: np.ndarray,
        R_cam_from_model: np.ndarray,
        candidate_visible: np.ndarray | None = None,
    ) -> np.ndarray:
        """Vertex index of each of the 68 landmarks in the 2D contour convention.

        Args:
            model: the model this table was built for.
            uv_px: (V, 2) projected vertices of the posed mesh (any pixel grid).
            R_cam_from_model: (3, 3) head rotation (``synth.geometry`` convention).
            candidate_visible: (P,) bool visibility of ``self.candidates`` in this view;
                None treats every candidate as visible.

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
        visible = np.zeros(model.num_vertices, dtype=bool)
        visible[self.candidates] = True if candidate_visible is None else candidate_visible
        for j, cand in self.parallels.items():
            outward = -left_dir if j in JAW_RIGHT else left_dir
            score = uv_px[cand] @ outward
            if visible[cand].any():
                score = np.where(visible[cand], score, -np.inf)
            out[j] = cand[np.argmax(score)]
        return out


_TABLES: "weakref.WeakKeyDictionary[MorphableModel, ContourTable]" = weakref.WeakKeyDictionary()


def contour_table(model: MorphableModel) -> ContourTable:
    """The (cached) ``ContourTable`` of a model."""
    table = _TABLES.get(model)
    if table is None:
        table = _TABLES[model] = ContourTable(model)
    return table
