"""Level-of-detail (LOD) models: a 3DMM decimated to fewer triangles, as a vertex subset.

A 128 px crop does not need the ICT head's 27k triangles (about two per covered pixel), and
every per-vertex stage of the generator (3DMM evaluation, albedo, normals, shading) and the
rasterizer's triangle setup scale with the mesh (``SampleMaker`` renders
``lod_model(model, image_size, render.triangles_per_px, render.lod_max_error_px)``).
``decimate(model, max_triangles, max_error_mm)`` returns
a ``MorphableModel`` whose vertices are a **subset** of the source model's vertices (same
rows of ``mean_shape``, ``id_basis``, ``expr_basis``, regions, UVs, albedo) joined by fewer,
larger triangles. Because kept vertices are untouched:

- landmark vertices and every candidate of the 2D-contour convention (``synth.labels``)
  are kept with their neighbours, and the decimated model uses its source's contour table,
  so a sample's 3D-convention landmarks are those of the full model for the same weights;
  the triangles around those vertices, hence their normals and the triangles the depth test
  looks for, are the full model's too. Visibility can still differ where another part of
  the head, decimated, hides a point or not, and a 2D-contour jaw point, which takes the
  outermost *visible* candidate, moves with it (measured: ~1 % of visibility flags);
- identity/expression weights mean the same thing;
- region borders (lips, eyelids, hairline, ...) and open mesh borders (neck cut, eye
  sockets) are kept vertex for vertex, so colours never bleed across them.

Algorithm: greedy half-edge collapses ``u -> v`` (``u`` is removed, its triangles are given
to ``v``), ordered by a quadric error (Garland & Heckbert 1997) summed over a set of
**shapes** of the model (the mean, every expression at its extreme, +-2.5 sigma on the
first identity modes), and its error is the worst shape's: a collapse is cheap only if the
surface stays in place in every one of them, e.g. eyelids keep their vertices where the eye
closes. Collapses that
would fold a triangle (normal turning by more than ``MAX_NORMAL_TURN_DEG`` in any of those
shapes), break the manifold (link condition, no face made twice) or move a locked vertex
are refused.

The contour table of a decimated model is registered in this process
(``synth.labels.set_contour_table``); it is not part of the model's arrays, so a decimated
model saved or pickled and loaded elsewhere would rebuild a coarser table. Nothing does that:
workers decimate again (or inherit the parent's by fork). A small
edge-length term keeps the triangles even on flat parts.

Why our own code: mesh libraries on PyPI (``fast-simplification``, Open3D, trimesh) place
new vertices freely and cannot lock vertices or weigh several shapes at once; pymeshlab
could select regions but is a large binary dependency, and none of them returns the vertex
subset needed to slice a 3DMM's bases.
"""

from __future__ import annotations

import heapq
import math
import weakref
from dataclasses import replace

import numba
import numpy as np

from synth.labels import contour_table, set_contour_table
from synth.morphable import MorphableModel

__all__ = ["decimate", "locked_vertices", "lod_model", "face_mm_per_px", "MAX_NORMAL_TURN_DEG"]

#: a collapse is refused if any changed triangle's normal turns by more than this (degrees)
#: in any of the shapes, or if it becomes (nearly) degenerate.
MAX_NORMAL_TURN_DEG = 60.0
#: weight of the squared edge length (mm^2) against the squared RMS error (mm^2): keeps
#: triangles even where the quadric is zero (flat or uniformly curved parts).
EDGE_LENGTH_WEIGHT = 0.02
#: identity modes moved to +-IDENTITY_SIGMA in the shape set (the strongest modes).
IDENTITY_MODES = 6
IDENTITY_SIGMA = 2.5
#: most triangles a vertex may have after a collapse (the fan capacity of the kernel).
MAX_VALENCE = 48


def locked_vertices(model: MorphableModel) -> np.ndarray:
    """(V,) bool: vertices that decimation must keep.

    Landmarks, jaw-contour vertices and the 2D-contour candidates of ``synth.labels``
    (labels are read from them) and their neighbours, vertices on an open
    mesh border or a non-manifold edge (removing them opens or tears the surface), and
    vertices with a neighbour in another region (region borders keep their shape).
    """
    v = model.num_vertices
    tri = model.triangles.astype(np.int64)
    edges = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
    labelled = np.zeros(v, bool)
    labelled[model.landmarks68] = True
    labelled[model.contour_right] = True
    labelled[model.contour_left] = True
    labelled[contour_table(model).candidates] = True
    # with their 1-rings: no collapse then touches a triangle around a labelled vertex, so
    # its normal and depth-test triangles (hence its visibility label) stay as they were
    lock = labelled.copy()
    lock[edges[labelled[edges[:, 0]], 1]] = True
    lock[edges[labelled[edges[:, 1]], 0]] = True
    key = np.minimum(edges[:, 0], edges[:, 1]) * v + np.maximum(edges[:, 0], edges[:, 1])
    uniq, counts = np.unique(key, return_counts=True)
    bad = uniq[counts != 2]
    lock[bad // v] = True
    lock[bad % v] = True
    reg = model.vertex_region
    cross = reg[edges[:, 0]] != reg[edges[:, 1]]
    lock[edges[cross].ravel()] = True
    return lock


def _shape_set(model: MorphableModel) -> np.ndarray:
    """(S, V, 3) float64 shapes the collapse error is summed over (see module docstring)."""
    mean = model.mean_shape.astype(np.float64)
    shapes = [mean]
    lo, hi = model.expr_range[:, 0], model.expr_range[:, 1]
    extreme = np.where(np.abs(hi) >= np.abs(lo), hi, lo)
    for k in range(model.num_expr):
        if extreme[k] != 0:
            shapes.append(mean + extreme[k] * model.expr_basis[k])
    for k in range(min(IDENTITY_MODES, model.num_id)):
        shapes.append(mean + IDENTITY_SIGMA * model.id_basis[k])
        shapes.append(mean - IDENTITY_SIGMA * model.id_basis[k])
    return np.ascontiguousarray(np.stack(shapes))


def decimate(model: MorphableModel, max_triangles: int = 0, max_error_mm: float = math.inf
             ) -> tuple[MorphableModel, np.ndarray]:
    """Decimate ``model`` to ``max_triangles`` triangles, within ``max_error_mm``.

    Args:
        model: the source 3DMM.
        max_triangles: stop at this many triangles (0: go on while the error allows).
        max_error_mm: refuse collapses whose error exceeds this: the RMS distance of the
            removed surface's planes from the vertex that replaces it, in the worst shape
            of the shape set. The result can have more than ``max_triangles`` triangles when this,
            the locked vertices or refused collapses stop it first.

    Returns:
        (lod, kept): ``lod`` is a ``MorphableModel`` over the source vertices ``kept``
        ((V',) int64, increasing); its landmark and contour indices point at the same
        source vertices. ``lod.meta`` records the source triangle and vertex counts.
        Deterministic: the same model and target give the same result.
    """
    if max_triangles >= model.num_triangles or max_error_mm <= 0:
        return model, np.arange(model.num_vertices)
    shapes = _shape_set(model)
    tris = np.array(model.triangles, dtype=np.int64)
    lock = locked_vertices(model)
    alive_v, alive_f = _collapse_kernel(shapes, tris, lock, int(max_triangles), float(max_error_mm) ** 2,
                                        math.cos(math.radians(MAX_NORMAL_TURN_DEG)), EDGE_LENGTH_WEIGHT,
                                        MAX_VALENCE)
    kept = np.flatnonzero(alive_v)
    new_index = np.full(model.num_vertices, -1, np.int64)
    new_index[kept] = np.arange(kept.size)
    faces = new_index[tris[alive_f]]
    meta = dict(model.meta)
    meta["lod"] = (f"vertex-subset decimation of {model.num_vertices} vertices / {model.num_triangles} "
                   f"triangles to {kept.size} / {faces.shape[0]} (target {max_triangles}, max error {max_error_mm} mm)")

    def rows(a: np.ndarray | None, axis: int = 0) -> np.ndarray | None:
        return None if a is None else np.take(a, kept, axis=axis)

    lod = replace(
        model,
        mean_shape=rows(model.mean_shape),
        triangles=faces,
        id_basis=rows(model.id_basis, 1),
        expr_basis=rows(model.expr_basis, 1),
        landmarks68=new_index[model.landmarks68],
        contour_right=new_index[model.contour_right],
        contour_left=new_index[model.contour_left],
        vertex_region=rows(model.vertex_region),
        uv=rows(model.uv),
        albedo_mean=rows(model.albedo_mean),
        albedo_basis=rows(model.albedo_basis, 1),
        meta=meta,
    )
    set_contour_table(lod, contour_table(model).remapped(new_index))
    return lod, kept


#: source model -> {(triangle budget, max error mm): its LOD}; dropped with the model
_LOD_CACHE: "weakref.WeakKeyDictionary[MorphableModel, dict[tuple[int, float], MorphableModel]]" = \
    weakref.WeakKeyDictionary()

def face_mm_per_px(model: MorphableModel, image_size: int, crop_scale: float) -> float:
    """Millimetres on the face per crop pixel for a crop of ``crop_scale`` times the
    landmarks' bounding-sphere diameter (``synth.framing.crop_box``), mean shape."""
    lmk = model.mean_shape[model.landmarks68].astype(np.float64)
    radius = float(np.linalg.norm(lmk - lmk.mean(0), axis=1).max())
    return 2.0 * radius * crop_scale / image_size


def lod_model(model: MorphableModel, image_size: int, triangles_per_px: float, max_error_px: float = math.inf,
              crop_scale: float = 1.25) -> MorphableModel:
    """The model to render ``image_size`` px crops with.

    At most ``triangles_per_px * image_size**2`` triangles, and no collapse whose error
    exceeds ``max_error_px`` crop pixels on the tightest crop (``crop_scale``, the smallest
    crop side over the landmarks' bounding-sphere diameter). ``triangles_per_px <= 0``, or a
    budget above the model's count, gives the model itself. Cached per (model, target) in
    the process, so a worker decimates once.
    """
    if triangles_per_px <= 0:
        return model
    target = max(64, int(round(triangles_per_px * image_size * image_size)))
    if target >= model.num_triangles:
        return model
    max_error_mm = max_error_px * face_mm_per_px(model, image_size, crop_scale)
    per_model = _LOD_CACHE.setdefault(model, {})
    key = (target, max_error_mm)
    if key not in per_model:
        per_model[key] = decimate(model, target, max_error_mm)[0]
    return per_model[key]


# --------------------------------------------------------------------------------------
# kernel


@numba.njit(cache=True, inline="always")
def _normal(a, b, c):
    """Unnormalised normal (b - a) x (c - a) as a tuple."""
    ex, ey, ez = b[0] - a[0], b[1] - a[1], b[2] - a[2]
    fx, fy, fz = c[0] - a[0], c[1] - a[1], c[2] - a[2]
    return ey * fz - ez * fy, ez * fx - ex * fz, ex * fy - ey * fx


@numba.njit(cache=True, inline="always")
def _plane_quadric(a, b, c, out):
    """Area-weighted plane quadric of triangle (a, b, c) added to ``out`` (10,): the upper
    triangle of w * [n; d][n; d]^T with n the unit normal and d = -n . a."""
    nx, ny, nz = _normal(a, b, c)
    ln = math.sqrt(nx * nx + ny * ny + nz * nz)
    if ln == 0.0:
        return
    w = 0.5 * ln  # area
    nx, ny, nz = nx / ln, ny / ln, nz / ln
    d = -(nx * a[0] + ny * a[1] + nz * a[2])
    out[0] += w * nx * nx; out[1] += w * nx * ny; out[2] += w * nx * nz; out[3] += w * nx * d  # noqa: E702
    out[4] += w * ny * ny; out[5] += w * ny * nz; out[6] += w * ny * d  # noqa: E702
    out[7] += w * nz * nz; out[8] += w * nz * d  # noqa: E702
    out[9] += w * d * d


@numba.njit(cache=True, inline="always")
def _has(tris, f, x):
    """Whether triangle f uses vertex x."""
    return tris[f, 0] == x or tris[f, 1] == x or tris[f, 2] == x


@numba.njit(cache=True, inline="always")
def _quadric_at(q, p):
    x, y, z = p[0], p[1], p[2]
    return (q[0] * x * x + 2.0 * q[1] * x * y + 2.0 * q[2] * x * z + 2.0 * q[3] * x
            + q[4] * y * y + 2.0 * q[5] * y * z + 2.0 * q[6] * y
            + q[7] * z * z + 2.0 * q[8] * z + q[9])


@numba.njit(cache=True)
def _cost(shapes, quad, edge_w, u, v):
    """(error mm^2, priority) of collapsing u into v: the error is the squared RMS distance
    of the planes accumulated in u and v from v's position, in the worst of the shapes; the
    priority adds ``edge_w`` times the squared edge length (mean shape)."""
    s_count = shapes.shape[0]
    err = 0.0
    for s in range(s_count):
        qu, qv = quad[u, s], quad[v, s]
        w = qu[0] + qu[4] + qu[7] + qv[0] + qv[4] + qv[7]  # total plane area
        if w > 0.0:
            err = max(err, (_quadric_at(qu, shapes[s, v]) + _quadric_at(qv, shapes[s, v])) / w)
    dx = shapes[0, u, 0] - shapes[0, v, 0]
    dy = shapes[0, u, 1] - shapes[0, v, 1]
    dz = shapes[0, u, 2] - shapes[0, v, 2]
    return err, err + edge_w * (dx * dx + dy * dy + dz * dz)


@numba.njit(cache=True)
def _neighbours(tris, vf, vfn, x, out):
    """Distinct neighbours of vertex x into out; returns their count."""
    n = 0
    for i in range(vfn[x]):
        f = vf[x, i]
        for j in range(3):
            y = tris[f, j]
            if y == x:
                continue
            seen = False
            for k in range(n):
                if out[k] == y:
                    seen = True
                    break
            if not seen:
                out[n] = y
                n += 1
    return n


@numba.njit(cache=True)
def _collapse_ok(shapes, tris, vf, vfn, u, v, cos_max, max_valence, nb_u, nb_v):
    """Whether u -> v keeps the mesh a manifold without folds (see module docstring)."""
    # edge u-v must exist with exactly two faces, and the links must share just their apexes
    shared = 0
    for i in range(vfn[u]):
        f = vf[u, i]
        if _has(tris, f, v):
            shared += 1
    if shared != 2:
        return False
    if vfn[u] + vfn[v] - 4 > max_valence:
        return False
    nu = _neighbours(tris, vf, vfn, u, nb_u)
    nv = _neighbours(tris, vf, vfn, v, nb_v)
    common = 0
    for i in range(nu):
        for j in range(nv):
            if nb_u[i] == nb_v[j]:
                common += 1
    if common != 2:
        return False
    # no face may come out twice: a face (u, x, y) handed to v must not exist as (v, x, y)
    # (a tetrahedron-like cap would fold into two copies of one triangle)
    for i in range(vfn[u]):
        f = vf[u, i]
        if _has(tris, f, v):
            continue
        x, y = -1, -1
        for j in range(3):
            if tris[f, j] != u:
                if x < 0:
                    x = tris[f, j]
                else:
                    y = tris[f, j]
        for k in range(vfn[v]):
            g = vf[v, k]
            if _has(tris, g, x) and _has(tris, g, y):
                return False
    # no fold in any shape
    for i in range(vfn[u]):
        f = vf[u, i]
        a, b, c = tris[f, 0], tris[f, 1], tris[f, 2]
        if a == v or b == v or c == v:
            continue
        a2 = v if a == u else a
        b2 = v if b == u else b
        c2 = v if c == u else c
        for s in range(shapes.shape[0]):
            p = shapes[s]
            n0 = _normal(p[a], p[b], p[c])
            n1 = _normal(p[a2], p[b2], p[c2])
            l0 = math.sqrt(n0[0] * n0[0] + n0[1] * n0[1] + n0[2] * n0[2])
            l1 = math.sqrt(n1[0] * n1[0] + n1[1] * n1[1] + n1[2] * n1[2])
            if l1 <= 1e-6 * l0 or l1 == 0.0:
                return False
            if (n0[0] * n1[0] + n0[1] * n1[1] + n0[2] * n1[2]) < cos_max * l0 * l1:
                return False
    return True


@numba.njit(cache=True)
def _collapse_kernel(shapes, tris, lock, target, max_err2, cos_max, edge_w, max_valence):
    """Greedy half-edge collapses until ``target`` triangles are left (or none is allowed).

    Args: shapes (S, V, 3) float64 mm; tris (F, 3) int64, rewritten in place; lock (V,)
    bool; target triangle count (0: no count limit); max_err2: largest squared RMS error,
    mm^2; cos_max: cosine of the largest normal turn; edge_w: edge-length weight of the
    priority; max_valence: most triangles a vertex may end with.

    Returns: (alive_v (V,) bool, alive_f (F,) bool); the alive rows of ``tris`` are the
    decimated triangles (in source vertex indices). Heap entries are (priority, error, u,
    v, stamp[u], stamp[v]): a vertex's stamp grows when its quadric changes, which voids its
    older entries; ties break on the vertex indices, so the result is deterministic.
    """
    n_v = shapes.shape[1]
    n_f = tris.shape[0]
    s_count = shapes.shape[0]
    # vertex -> faces fans
    vfn = np.zeros(n_v, np.int64)
    for f in range(n_f):
        for j in range(3):
            vfn[tris[f, j]] += 1
    cap = max(max_valence, vfn.max()) + 4
    vf = np.empty((n_v, cap), np.int64)
    vfn[:] = 0
    for f in range(n_f):
        for j in range(3):
            x = tris[f, j]
            vf[x, vfn[x]] = f
            vfn[x] += 1
    # per-vertex quadrics for every shape
    quad = np.zeros((n_v, s_count, 10))
    q = np.empty(10)
    for f in range(n_f):
        a, b, c = tris[f, 0], tris[f, 1], tris[f, 2]
        for s in range(s_count):
            q[:] = 0.0
            _plane_quadric(shapes[s, a], shapes[s, b], shapes[s, c], q)
            for k in range(10):
                quad[a, s, k] += q[k]
                quad[b, s, k] += q[k]
                quad[c, s, k] += q[k]

    alive_v = np.ones(n_v, np.bool_)
    alive_f = np.ones(n_f, np.bool_)
    stamp = np.zeros(n_v, np.int64)
    nb_u = np.empty(4 * cap, np.int64)
    nb_v = np.empty(4 * cap, np.int64)
    nb = np.empty(4 * cap, np.int64)
    heap = [(0.0, 0.0, np.int64(0), np.int64(0), np.int64(0), np.int64(0))]  # types the list
    heap.pop()
    for x in range(n_v):
        if lock[x]:
            continue
        k = _neighbours(tris, vf, vfn, x, nb)
        for i in range(k):
            y = nb[i]
            err, prio = _cost(shapes, quad, edge_w, x, y)
            heap.append((prio, err, np.int64(x), np.int64(y), stamp[x], stamp[y]))
    heapq.heapify(heap)

    faces_left = n_f
    while faces_left > target and len(heap) > 0:
        _, err, u, v, su, sv = heapq.heappop(heap)
        if not alive_v[u] or not alive_v[v] or stamp[u] != su or stamp[v] != sv or err > max_err2:
            continue
        if not _collapse_ok(shapes, tris, vf, vfn, u, v, cos_max, max_valence, nb_u, nb_v):
            continue
        # give u's faces to v; drop the two that hold both
        for i in range(vfn[u]):
            f = vf[u, i]
            if _has(tris, f, v):
                alive_f[f] = False
                faces_left -= 1
                for j in range(3):
                    w = tris[f, j]
                    if w == u:
                        continue
                    m = 0
                    for t in range(vfn[w]):
                        if vf[w, t] != f:
                            vf[w, m] = vf[w, t]
                            m += 1
                    vfn[w] = m
            else:
                for j in range(3):
                    if tris[f, j] == u:
                        tris[f, j] = v
                vf[v, vfn[v]] = f
                vfn[v] += 1
        vfn[u] = 0
        alive_v[u] = False
        for s in range(s_count):
            quad[v, s] += quad[u, s]
        stamp[v] += 1
        # re-queue the collapses into and out of v (its quadric changed, and u's former
        # neighbours are now v's); entries with v's old stamp are dropped when popped
        k = _neighbours(tris, vf, vfn, v, nb)
        for i in range(k):
            x = nb[i]
            if not lock[x]:
                err, prio = _cost(shapes, quad, edge_w, x, v)
                heapq.heappush(heap, (prio, err, x, v, stamp[x], stamp[v]))
            if not lock[v]:
                err, prio = _cost(shapes, quad, edge_w, v, x)
                heapq.heappush(heap, (prio, err, v, x, stamp[v], stamp[x]))
    return alive_v, alive_f
