"""Helpers shared by the importers: triangles, sub-meshes, the model frame's origin, checks.

Symbols: V vertices, F triangles, P polygons.

Every importer converts its source to the project frame (``synth.morphable``: mm, x toward
the subject's left, y up, z out of the face) *before* calling these, so they all work in mm.

Origin rule (``head_origin``), one for every importer:
    x = midline (mean x of the four eye corners), y = eye height (mean y of the four eye
    corners), z = middle of the head's front-to-back extent at eye height when the mesh is a
    whole head (extent >= 150 mm), else 95 mm behind the face's front at eye height (half a
    typical 190 mm head length), for face-only meshes. So the origin sits roughly between the
    ears at eye height, and a rotation about it turns the head about its own centre.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from synth.errors import UserError
from synth.landmarks import NUM_LANDMARKS, group_indices, landmark_index

__all__ = [
    "triangulate",
    "submesh",
    "remap_indices",
    "boundary_loops",
    "cap_loops",
    "close_neck",
    "append_loop_means",
    "orient_outward",
    "head_origin",
    "check_landmarks",
    "contours_from_jaw",
    "num_modes",
]

_EYE_CORNERS = ("r_eye_outer", "r_eye_inner", "l_eye_inner", "l_eye_outer")
_WHOLE_HEAD_MIN_DEPTH_MM = 150.0  # front-to-back extent at eye height above which a mesh is a whole head
_HALF_HEAD_LENGTH_MM = 95.0  # glabella to head centre, adult average (head length ~190 mm)


def triangulate(polygons: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Fan-triangulate polygons, keeping their winding.

    Args:
        polygons: P arrays of k >= 3 vertex indices each.

    Returns:
        triangles: (F, 3) int64, polygon (v0, vk, vk+1) for k = 1..n-2, in polygon order.
        triangle_polygon: (F,) int64 index of the polygon each triangle came from.
    """
    sizes = np.array([len(p) for p in polygons], dtype=np.int64)
    tris, owner = [], []
    for k in np.unique(sizes):  # vectorised per polygon size (OBJ heads: tris and quads)
        which = np.flatnonzero(sizes == k)
        block = np.stack([polygons[i] for i in which])  # (n, k)
        for j in range(1, k - 1):
            tris.append(block[:, [0, j, j + 1]])
            owner.append(which)
    triangles = np.concatenate(tris)
    triangle_polygon = np.concatenate(owner)
    order = np.argsort(triangle_polygon, kind="stable")  # back to file order
    return triangles[order], triangle_polygon[order]


def submesh(keep: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Restrict a mesh to a vertex subset, dropping vertices no kept triangle uses.

    Args:
        keep: (V,) bool, vertices wanted.
        triangles: (F, 3) int, 0-based.

    Returns:
        old_to_new: (V,) int64 new index of each old vertex, -1 where dropped.
        triangles_new: (F', 3) int64, the triangles whose three vertices are kept, re-indexed.
        kept_vertices: (V',) int64 old indices of the kept vertices, ascending.
    """
    tri_keep = keep[triangles].all(axis=1)
    used = np.zeros(keep.shape[0], dtype=bool)
    used[triangles[tri_keep].ravel()] = True
    kept_vertices = np.flatnonzero(used)
    old_to_new = np.full(keep.shape[0], -1, dtype=np.int64)
    old_to_new[kept_vertices] = np.arange(kept_vertices.size)
    return old_to_new, old_to_new[triangles[tri_keep]], kept_vertices


def boundary_loops(triangles: np.ndarray, num_vertices: int) -> list[np.ndarray]:
    """The closed boundary loops (holes) of a consistently wound triangle mesh.

    A boundary edge is a directed edge a -> b of some triangle whose opposite b -> a belongs
    to none. Loops are chained along the boundary edges' direction; a boundary that does
    not close into a simple loop (a non-manifold pinch) is left out.

    Returns:
        [(L,) int64 vertex indices], each in the order its edges run in their triangles.
    """
    t = np.asarray(triangles, dtype=np.int64)
    edges = np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])
    fwd = edges[:, 0] * num_vertices + edges[:, 1]
    rev = edges[:, 1] * num_vertices + edges[:, 0]
    border = edges[~np.isin(fwd, rev)]
    nxt = dict(zip(border[:, 0].tolist(), border[:, 1].tolist()))
    loops, seen = [], set()
    for start in nxt:
        if start in seen:
            continue
        loop, v = [start], nxt[start]
        seen.add(start)
        while v != start and v in nxt and v not in seen:
            loop.append(v)
            seen.add(v)
            v = nxt[v]
        if v == start and len(loop) >= 3:
            loops.append(np.array(loop, dtype=np.int64))
    return loops


def cap_loops(triangles: np.ndarray, loops: list[np.ndarray], first_new_vertex: int) -> np.ndarray:
    """Close each loop with a fan of triangles around a new vertex (its centroid).

    The new vertex of loop k gets index ``first_new_vertex + k``; the caller appends, for
    every per-vertex array, the mean over the loop's vertices (for the positions and the
    linear bases that makes the cap follow every identity and expression exactly). The fan
    runs each boundary edge backwards, so the cap is wound like the triangles around it.

    Returns:
        (F + sum L, 3) int64 triangles.
    """
    caps = [np.asarray(triangles, dtype=np.int64)]
    for k, loop in enumerate(loops):
        a, b = loop, np.roll(loop, -1)
        caps.append(np.column_stack([b, a, np.full(len(loop), first_new_vertex + k, dtype=np.int64)]))
    return np.concatenate(caps)


#: a hole whose centroid lies this far below the chin is the neck's cut (``close_neck``)
NECK_BELOW_CHIN_MM = 30.0


def close_neck(verts_mm: np.ndarray, triangles: np.ndarray, lmk68: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Cap the neck's cut of a head mesh, like a bust's flat bottom.

    A head model is a shell: seen from below and behind (steep pitch, |yaw| > 90) an open
    neck shows the shell's inside (or nothing, with back faces culled). Holes whose centroid
    lies ``NECK_BELOW_CHIN_MM`` below the chin landmark (y up) are closed with ``cap_loops``;
    the others (mouth, eyes, a face-only mask's outline) stay open.

    Returns:
        (triangles, loops): the triangles with the caps, and the capped loops; the caller
        appends one vertex per loop to every per-vertex array (``append_loop_means``).
    """
    chin_y = verts_mm[lmk68[landmark_index("jaw_08")], 1]
    loops = [lp for lp in boundary_loops(triangles, len(verts_mm)) if verts_mm[lp, 1].mean() < chin_y - NECK_BELOW_CHIN_MM]
    return cap_loops(triangles, loops, len(verts_mm)), loops


def append_loop_means(values: np.ndarray, loops: list[np.ndarray], axis: int = 0) -> np.ndarray:
    """``values`` with, along its vertex ``axis``, one entry per loop: the mean over the loop."""
    if not loops:
        return values
    means = np.stack([np.take(values, lp, axis=axis).mean(axis=axis) for lp in loops], axis=axis)
    return np.concatenate([values, means.astype(values.dtype)], axis=axis)


def remap_indices(old_to_new: np.ndarray, idx: np.ndarray, what: str, where: str) -> np.ndarray:
    """Map vertex indices through ``submesh``'s ``old_to_new``; error if one was dropped."""
    new = old_to_new[np.asarray(idx, dtype=np.int64)]
    if (new < 0).any():
        lost = np.asarray(idx)[new < 0][:5].tolist()
        raise UserError(f"{where}: {what} use vertices {lost} that the selected parts drop; keep the part that holds them")
    return new


def orient_outward(verts: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, bool]:
    """Flip all triangles if most of the surface (by area) faces the mesh's centroid.

    The test is the area-weighted sum of ``normal . (centroid_tri - centroid_mesh)``: positive
    for a closed or face-mask surface wound counter-clockwise from outside.

    Returns:
        (F, 3) triangles, counter-clockwise from outside, and whether they were flipped.
    """
    v0, v1, v2 = (verts[triangles[:, k]] for k in range(3))
    n = np.cross(v1 - v0, v2 - v0)  # length = 2 * area
    outwardness = np.einsum("ij,ij->", n, (v0 + v1 + v2) / 3.0 - verts.mean(axis=0))
    if outwardness < 0:
        return triangles[:, ::-1].copy(), True
    return triangles, False


def _eye_corners(verts_mm: np.ndarray, lmk68: np.ndarray) -> np.ndarray:
    return verts_mm[lmk68[[landmark_index(n) for n in _EYE_CORNERS]]]


def head_origin(verts_mm: np.ndarray, lmk68: np.ndarray, head: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """The model frame's origin (see the module docstring), in the input's (mm) frame.

    Args:
        verts_mm: (V, 3) mm, axes already in the project convention.
        lmk68: (68,) vertex indices, iBUG order.
        head: optional (V,) bool, the vertices of the head surface (skin parts), so that
            eyeballs, teeth and shells do not change the extent.

    Returns:
        origin: (3,) float64 mm, to subtract from every vertex.
        rule: one line saying which rule set z (stored in the model's ``meta``).
    """
    eyes = _eye_corners(verts_mm, lmk68)
    x0, y0 = float(eyes[:, 0].mean()), float(eyes[:, 1].mean())
    pts = verts_mm if head is None else verts_mm[head]
    slab = pts[np.abs(pts[:, 1] - y0) < 20.0]  # a 40 mm band at eye height
    if slab.shape[0] == 0:
        slab = pts
    z_front, z_back = float(slab[:, 2].max()), float(slab[:, 2].min())
    if z_front - z_back >= _WHOLE_HEAD_MIN_DEPTH_MM:
        z0, rule = 0.5 * (z_front + z_back), "mid-depth of the head at eye height"
    else:
        z0, rule = z_front - _HALF_HEAD_LENGTH_MM, f"{_HALF_HEAD_LENGTH_MM:.0f} mm behind the face front at eye height"
    return np.array([x0, y0, z0]), f"x midline, y eye height, z {rule}"


def check_landmarks(verts_mm: np.ndarray, lmk68: np.ndarray, where: str) -> None:
    """Raise ``UserError`` if the landmarks do not look like iBUG-68 on a face in mm.

    Catches wrong units, mirrored or rotated axes, and landmark files made for another mesh.
    """
    if lmk68.shape != (NUM_LANDMARKS,):
        raise UserError(f"{where}: need {NUM_LANDMARKS} landmark indices, got shape {lmk68.shape}")
    p = verts_mm[lmk68]
    r_out, l_out = p[landmark_index("r_eye_outer")], p[landmark_index("l_eye_outer")]
    eye_dist = float(np.linalg.norm(l_out - r_out))
    if not 60.0 <= eye_dist <= 140.0:
        raise UserError(f"{where}: outer eye corners (landmarks 36, 45) are {eye_dist:.3g} mm apart, expected 60-140 mm: "
                        "wrong units, or landmark indices made for another mesh?")
    if not r_out[0] < l_out[0]:
        raise UserError(f"{where}: landmark 36 (subject's right eye corner) must have smaller x than 45 "
                        f"(x = {r_out[0]:.1f} vs {l_out[0]:.1f} mm): mirrored axes or another mesh's landmarks?")
    eye_y = float(_eye_corners(verts_mm, lmk68)[:, 1].mean())
    mouth_y = float(p[[landmark_index("r_mouth_corner"), landmark_index("l_mouth_corner")], 1].mean())
    chin_y = float(p[landmark_index("jaw_08"), 1])
    if not eye_y > mouth_y > chin_y:
        raise UserError(f"{where}: expected eyes above mouth above chin along +y, got y = {eye_y:.1f}, {mouth_y:.1f}, "
                        f"{chin_y:.1f} mm: is y up?")
    nose_z = float(p[landmark_index("nose_bridge_3"), 2])  # landmark 30, the nose tip
    jaw_ends_z = float(p[[landmark_index("jaw_00"), landmark_index("jaw_16")], 2].mean())
    if not nose_z > jaw_ends_z:
        raise UserError(f"{where}: the nose tip (landmark 30) must be in front (+z) of the jaw ends (0, 16); "
                        f"z = {nose_z:.1f} vs {jaw_ends_z:.1f} mm: does the face look along +z?")


def contours_from_jaw(verts_mm: np.ndarray, lmk68: np.ndarray, candidates: np.ndarray | None = None,
                      step_mm: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Jawline candidate vertices derived from the 17 jaw landmarks.

    The polyline through jaw landmarks 0..8 (subject's right, ear to chin) and 8..16 (chin to
    the left ear) is sampled every ``step_mm``; each sample takes its nearest candidate vertex
    (duplicates removed, order kept). Samples within ``step_mm`` of the chin point are left
    out, so neither side holds the chin itself (as in ICT-FaceKit's lists).

    Args:
        candidates: optional (V,) bool, vertices allowed (e.g. skin); default all.

    Returns:
        contour_right: (Cr,) int64, ear -> chin. contour_left: (Cl,) int64, chin -> ear.
    """
    allowed = np.arange(verts_mm.shape[0]) if candidates is None else np.flatnonzero(candidates)
    tree = cKDTree(verts_mm[allowed])
    jaw = verts_mm[lmk68[group_indices("jaw")]]  # (17, 3), 0 = right ear end, 8 = chin
    mid = jaw.shape[0] // 2

    def along(poly: np.ndarray, drop_end: bool) -> np.ndarray:
        seg = np.linalg.norm(np.diff(poly, axis=0), axis=1)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        t = np.arange(0.0, s[-1] + 1e-9, step_mm)
        t = t[t <= s[-1] - step_mm] if drop_end else t[t >= step_mm]
        pts = np.stack([np.interp(t, s, poly[:, k]) for k in range(3)], axis=1)
        _, nn = tree.query(pts)
        idx = allowed[nn]
        _, first = np.unique(idx, return_index=True)
        return idx[np.sort(first)]

    return along(jaw[: mid + 1], drop_end=True), along(jaw[mid:], drop_end=False)


def num_modes(requested: int | None, available: int, what: str, where: str) -> int:
    """Validate a requested number of modes (None = all) against what the source holds."""
    if requested is None:
        return available
    if not 0 <= requested <= available:
        raise UserError(f"{where}: {what}={requested} is out of range; the source has {available} modes (use 0..{available})")
    return int(requested)
