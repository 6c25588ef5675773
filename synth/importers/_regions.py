"""Geometric region labels from the 68 landmarks, for sources without (complete) part labels.

All functions take vertices in the project frame (mm, x toward the subject's left, y up, z
out of the face) and update ``region`` ((V,) uint8, indices into ``REGION_NAMES``) only where
``eligible`` is true and the vertex is still ``skin``, so an importer can label known parts
first and let these fill in the rest. "Frontal projection" is the (x, y) plane.

Rules (approximate by design; they only steer the appearance sampler):
- lips: inside the outer-lip landmark polygon (48-59), on the front surface.
- brows: a band 8 mm below to 3 mm above the brow landmark polyline (17-21, 22-26).
- eyelids: inside the eye polygon (36-41, 42-47) scaled 1.4x across and 2.4x up-down.
- eyes drawn on a closed surface (BFM): inside the eye polygon -> sclera, within the iris
  radius of its centre -> iris.
- eyeballs (separate mesh components near the eyes, e.g. FLAME): sclera, iris in a cone
  around +z from the ball's centre.
- scalp / neck / ears: by height and depth relative to the jaw ends (0, 16), brows and chin.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from synth.landmarks import group_indices, landmark_index
from synth.morphable import region_id

__all__ = ["label_face_features", "label_head_regions", "label_eyes_on_surface", "label_eyeballs"]

_IRIS_RADIUS_MM = 5.9  # adult iris diameter ~11.8 mm
_SKIN = region_id("skin")


def _inside_polygon(pts_xy: np.ndarray, poly_xy: np.ndarray) -> np.ndarray:
    """(N,) bool: even-odd ray casting of (N, 2) points against a closed (K, 2) polygon."""
    x, y = pts_xy[:, :1], pts_xy[:, 1:2]
    x1, y1 = poly_xy[:, 0], poly_xy[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    crosses = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    return (np.sum(crosses & (x < x_at), axis=1) % 2) == 1


def _set(region: np.ndarray, mask: np.ndarray, name: str) -> None:
    region[mask & (region == _SKIN)] = region_id(name)


def label_face_features(verts: np.ndarray, lmk68: np.ndarray, region: np.ndarray, eligible: np.ndarray) -> None:
    """Label lips, brows and eyelids (in place) on eligible skin vertices."""
    p = verts[lmk68]

    def front_of(idx: np.ndarray, depth_mm: float) -> np.ndarray:  # on the face's front, not behind it
        return verts[:, 2] > p[idx, 2].min() - depth_mm

    ok = eligible & (region == _SKIN)
    outer_lip = group_indices("outer_lip")
    _set(region, ok & front_of(outer_lip, 10.0) & _inside_polygon(verts[:, :2], p[outer_lip, :2]), "lips")
    for brow in ("right_brow", "left_brow"):
        b = group_indices(brow)
        order = np.argsort(p[b, 0])
        bx, by = p[b[order], 0], p[b[order], 1]
        in_x = (verts[:, 0] >= bx[0]) & (verts[:, 0] <= bx[-1])
        dy = verts[:, 1] - np.interp(verts[:, 0], bx, by)
        _set(region, ok & in_x & (dy > -8.0) & (dy < 3.0) & front_of(b, 15.0), "brows")
    for eye in ("right_eye", "left_eye"):
        e = group_indices(eye)
        c = p[e, :2].mean(axis=0)
        grown = c + (p[e, :2] - c) * np.array([1.4, 2.4])
        _set(region, ok & front_of(e, 12.0) & _inside_polygon(verts[:, :2], grown), "eyelids")


def label_eyes_on_surface(verts: np.ndarray, lmk68: np.ndarray, region: np.ndarray, eligible: np.ndarray) -> None:
    """Label sclera / iris (in place) inside the eye polygons of a mesh without eyeballs."""
    p = verts[lmk68]
    for eye in ("right_eye", "left_eye"):
        e = group_indices(eye)
        inside = eligible & (verts[:, 2] > p[e, 2].min() - 12.0) & _inside_polygon(verts[:, :2], p[e, :2])
        region[inside] = region_id("sclera")
        centre = p[e, :2].mean(axis=0)
        region[inside & (np.linalg.norm(verts[:, :2] - centre, axis=1) < _IRIS_RADIUS_MM)] = region_id("iris")


def label_eyeballs(verts: np.ndarray, triangles: np.ndarray, lmk68: np.ndarray, region: np.ndarray) -> int:
    """Label eyeballs (in place): small mesh components whose centre lies within 25 mm of
    an eye's landmark centre. Returns the number of eyeballs found (0 for a closed face)."""
    nv = verts.shape[0]
    rows, cols = triangles[:, [0, 1, 2]].ravel(), triangles[:, [1, 2, 0]].ravel()  # the 3 edges of each triangle
    adj = sp.coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(nv, nv))
    n_comp, comp = connected_components(adj.tocsr(), directed=False)
    sizes = np.bincount(comp, minlength=n_comp)
    p = verts[lmk68]
    found = 0
    for eye in ("right_eye", "left_eye"):
        eye_c = p[group_indices(eye)].mean(axis=0)
        for c in np.flatnonzero(sizes < 0.2 * nv):
            members = np.flatnonzero(comp == c)
            centre = verts[members].mean(axis=0)
            if np.linalg.norm(centre - eye_c) < 25.0 and sizes[c] >= 20:
                label_iris_by_cone(verts, members, region)
                found += 1
    return found


def _fit_sphere(pts: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares sphere through (N, 3) points: centre (3,), radius."""
    a = np.c_[2.0 * pts, np.ones(pts.shape[0])]
    sol = np.linalg.lstsq(a, (pts**2).sum(axis=1), rcond=None)[0]
    centre = sol[:3]
    return centre, float(np.sqrt(max(sol[3] + centre @ centre, 1e-12)))


def label_iris_by_cone(verts: np.ndarray, eyeball: np.ndarray, region: np.ndarray) -> None:
    """Sclera for an eyeball's vertices, iris within the cone around +z (gaze at rest) from
    the ball's centre (a least-squares sphere fit, so a corneal bulge does not bias it) whose
    half-angle cuts a disc of the iris radius out of the ball."""
    pts = verts[eyeball]
    centre, radius = _fit_sphere(pts)
    d = pts - centre
    half_angle = np.arcsin(min(1.0, _IRIS_RADIUS_MM / radius))
    cos_to_z = d[:, 2] / np.maximum(np.linalg.norm(d, axis=1), 1e-9)
    region[eyeball] = region_id("sclera")
    region[eyeball[cos_to_z > np.cos(half_angle)]] = region_id("iris")


def label_head_regions(verts: np.ndarray, lmk68: np.ndarray, region: np.ndarray, eligible: np.ndarray) -> None:
    """Label scalp, neck and ears (in place) on eligible skin vertices of a head mesh.

    Landmarks 0 and 16 sit in front of the ears at about eye height: ears stick out sideways
    beyond them, the scalp is above the hairline (brows + 55 mm) or behind the ears, the neck
    below the chin or behind and below the ear lobes.
    """
    p = verts[lmk68]
    ends = p[[landmark_index("jaw_00"), landmark_index("jaw_16")]]
    brow_y = float(p[np.r_[group_indices("right_brow"), group_indices("left_brow")], 1].mean())
    chin_y = float(p[landmark_index("jaw_08"), 1])
    lobe_y = float(ends[:, 1].mean()) - 30.0
    back_z = float(ends[:, 2].mean()) - 15.0
    half_width = float(np.abs(ends[:, 0]).mean())
    x, y, z = verts[:, 0], verts[:, 1], verts[:, 2]
    ok = eligible & (region == _SKIN)
    ears = (np.abs(x) > half_width + 6.0) & (y > lobe_y - 5.0) & (y < float(ends[:, 1].mean()) + 28.0) & (z < back_z + 20.0)
    _set(region, ok & ears, "ears")
    _set(region, ok & ((y > brow_y + 55.0) | ((z < back_z) & (y >= lobe_y))), "scalp")
    _set(region, ok & ((y < chin_y - 12.0) | ((z < back_z) & (y < lobe_y))), "neck")
