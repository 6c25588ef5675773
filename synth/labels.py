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

import math
import weakref

import numba
import numpy as np

from synth.landmarks import group_indices
from synth.morphable import MorphableModel
from synth.raster import RasterOutput

__all__ = ["landmark_visibility", "ContourTable", "contour_table", "set_contour_table"]

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
    pts = np.ascontiguousarray(points_scr, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValueError(f"points_scr must be (N, 3) (u, v, depth), got {pts.shape}")
    if vertex_ids is None or triangles is None:
        ids = np.full(len(pts), -1, dtype=np.int64)
        tris = np.zeros((0, 3), dtype=np.int32)
    else:
        ids = np.ascontiguousarray(vertex_ids, dtype=np.int64).reshape(-1)
        tris = np.ascontiguousarray(triangles, dtype=np.int32)
        if ids.shape[0] != pts.shape[0]:
            raise ValueError(f"vertex_ids: expected ({pts.shape[0]},), got {ids.shape}")
    out = np.empty(len(pts), dtype=np.bool_)
    _visibility_kernel(pts, raster.depth, raster.tri_id, ids, tris, float(tol_mm), out)
    return out


@numba.njit(cache=True, nogil=True)
def _visibility_kernel(pts, depth, tri_id, ids, tris, tol, out):  # pragma: no cover - numba
    """``landmark_visibility`` per point; ids[n] < 0 or empty ``tris``: no own-triangle test."""
    h, w = depth.shape
    use_tris = tris.shape[0] > 0
    for n in range(pts.shape[0]):
        u, v, z = pts[n, 0], pts[n, 1], pts[n, 2]
        if not (u > -1.0 and u < w and v > -1.0 and v < h and z > 0):  # NaN fails too
            out[n] = False
            continue
        col, row = int(np.rint(u)), int(np.rint(v))  # half to even, as np.rint
        if not (0 <= col < w and 0 <= row < h):
            out[n] = False
            continue
        hit = False
        covered = False
        for rr in range(row - 1, row + 2):
            for cc in range(col - 1, col + 2):
                if rr < 0 or rr >= h or cc < 0 or cc >= w:
                    continue  # off the image: depth +inf, no triangle
                d = np.float64(depth[rr, cc])
                if abs(d - z) <= tol:
                    hit = True
                if d < z - tol:
                    covered = True
                if use_tris and ids[n] >= 0:
                    f = tri_id[rr, cc]
                    if f >= 0 and abs(d - z) <= 4 * tol:
                        v = ids[n]
                        if tris[f, 0] == v or tris[f, 1] == v or tris[f, 2] == v:
                            hit = True
        out[n] = hit or not covered


class ContourTable:
    """Per-model parallels for the jaw landmarks (computed once from the mean shape).

    Attributes:
        parallels: dict jaw landmark index -> (P,) int64 candidate vertex indices.
    """

    def __init__(self, model: MorphableModel, band_mm: float | None = None) -> None:
        self._set_parallels(self._find_parallels(model, band_mm))

    @staticmethod
    def _find_parallels(model: MorphableModel, band_mm: float | None) -> dict[int, np.ndarray]:
        verts = model.mean_shape.astype(np.float64)
        face = model.region_mask("skin")
        face[model.contour_right] = True
        face[model.contour_left] = True
        if band_mm is None:  # a band a few edges wide whatever the mesh density
            e = verts[model.triangles[:, 0]] - verts[model.triangles[:, 1]]
            band_mm = max(2.0, 1.5 * float(np.median(np.linalg.norm(e, axis=1))))
        parallels: dict[int, np.ndarray] = {}
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
            parallels[int(j)] = np.union1d(idx, [model.landmarks68[j]]).astype(np.int64)
        return parallels

    def _set_parallels(self, parallels: dict[int, np.ndarray]) -> None:
        self.parallels = parallels
        #: (P,) every vertex of any parallel (the ones whose visibility the caller tests)
        self.candidates: np.ndarray = np.unique(np.concatenate(list(self.parallels.values())))
        # the parallels flattened for ``_march_kernel``: vertex, its position in candidates,
        # segment starts, jaw landmark and outward sign (-1 right side, +1 left) per segment
        flat = [c for c in self.parallels.values()]
        self._flat = np.concatenate(flat).astype(np.int64)
        self._flat_pos = np.searchsorted(self.candidates, self._flat).astype(np.int64)
        self._starts = np.concatenate([[0], np.cumsum([len(c) for c in flat])]).astype(np.int64)
        self._jaw = np.array(list(self.parallels), dtype=np.int64)
        self._sign = np.array([-1.0 if j in JAW_RIGHT else 1.0 for j in self.parallels], dtype=np.float64)

    def remapped(self, new_index: np.ndarray) -> "ContourTable":
        """This table for a vertex-subset model (``synth.decimate``): ``new_index`` (V,)
        maps each vertex to its index in the subset, -1 if dropped (no candidate may be)."""
        parallels = {j: np.asarray(new_index)[c].astype(np.int64) for j, c in self.parallels.items()}
        if any((c < 0).any() for c in parallels.values()):
            raise ValueError("a contour candidate vertex is missing from the subset model")
        table = ContourTable.__new__(ContourTable)
        table._set_parallels(parallels)
        return table

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
            uv_px: (V, 2) projected vertices of the posed mesh (any pixel grid); (V, 3)
                screen vertices (u, v, depth) work too.
            R_cam_from_model: (3, 3) head rotation (``synth.geometry`` convention).
            candidate_visible: (P,) bool visibility of ``self.candidates`` in this view;
                None treats every candidate as visible.

        Returns:
            (68,) int64 vertex indices (equal to ``model.landmarks68`` except marching jaw points).
        """
        out = model.landmarks68.astype(np.int64)
        # Image direction of the model's +x axis (toward the subject's left). v is down, so
        # the camera's y component flips sign in the image.
        R = np.asarray(R_cam_from_model, dtype=np.float64)
        lx, ly = float(R[0, 0]), -float(R[1, 0])
        norm = math.hypot(lx, ly)
        if norm < 1e-6:  # looking along the model x axis: outward is undefined, keep 3D points
            return out
        if candidate_visible is None:
            vis = np.ones(len(self.candidates), dtype=np.bool_)
        else:
            vis = np.ascontiguousarray(candidate_visible, dtype=np.bool_).reshape(-1)
            if vis.shape[0] != len(self.candidates):
                raise ValueError(f"candidate_visible: expected ({len(self.candidates)},), got {vis.shape}")
        uv = np.asarray(uv_px, dtype=np.float64)  # (V, >= 2): columns u, v are read
        _march_kernel(uv, self._flat, self._flat_pos, self._starts, self._jaw, self._sign, vis,
                      lx / norm, ly / norm, out)
        return out


@numba.njit(cache=True, nogil=True)
def _march_kernel(uv, flat, pos, starts, jaw, sign, vis, lx, ly, out):  # pragma: no cover - numba
    """Per parallel: the visible candidate furthest along ``sign * (lx, ly)`` (first of
    equals, like np.argmax), or the furthest one if none is visible."""
    for p in range(jaw.shape[0]):
        a, b = starts[p], starts[p + 1]
        any_vis = False
        for i in range(a, b):
            if vis[pos[i]]:
                any_vis = True
                break
        ox, oy = sign[p] * lx, sign[p] * ly
        best, arg = -np.inf, -1
        for i in range(a, b):
            if any_vis and not vis[pos[i]]:
                continue
            c = flat[i]
            score = uv[c, 0] * ox + uv[c, 1] * oy
            if arg < 0 or score > best:
                best, arg = score, c
        out[jaw[p]] = arg


_TABLES: "weakref.WeakKeyDictionary[MorphableModel, ContourTable]" = weakref.WeakKeyDictionary()


def contour_table(model: MorphableModel) -> ContourTable:
    """The (cached) ``ContourTable`` of a model."""
    table = _TABLES.get(model)
    if table is None:
        table = _TABLES[model] = ContourTable(model)
    return table


def set_contour_table(model: MorphableModel, table: ContourTable) -> None:
    """Use ``table`` as ``model``'s contour table (a decimated model keeps its source's
    parallels, so its 2D contour labels follow the same candidates)."""
    _TABLES[model] = table
