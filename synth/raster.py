"""Z-buffer triangle rasterizer (numba), the project's rendering backend.

Why our own: pytorch3d has no build here, and a system OpenGL (moderngl/EGL, pyrender/
OSMesa) is not installable from pip alone. Measured on the ICT head (34k triangles, one
core) a compact numba z-buffer took 1.5 ms per 128 px frame vs 2.1 ms for moderngl/EGL
and 4 ms for pyrender/OSMesa, and is deterministic. The interface below (screen-space
vertices in, per-pixel triangle id + perspective-correct barycentrics + depth out) is what
an OpenGL backend would implement too; everything else (shading, labels) sits on top.

Symbols: V vertices, F triangles, H x W image.

Conventions
-----------
- Pixel coordinates (u, v): u right, v down, origin at the centre of the top-left pixel
  (see ``synth.geometry``). A pixel (i, j) is covered when its centre (u=j, v=i) is inside
  the triangle (top-left fill rule, so shared edges are drawn exactly once).
- ``depth`` is the positive distance along the camera's viewing axis (``-z_cam``, mm).
  Smaller is nearer; background pixels hold ``+inf``.
- Barycentrics are perspective-correct: attributes interpolated with them are linear on
  the 3D triangle, not on its projection.
- Ties in depth keep the triangle drawn first (lower index): output is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["RasterOutput", "rasterize", "rasterize_color", "interpolate", "vertex_normals", "edge_pixels", "refine_edges"]


@dataclass(frozen=True)
class RasterOutput:
    """Per-pixel rasterization result.

    Attributes:
        tri_id: (H, W) int32 triangle index, -1 where no triangle covers the pixel.
        bary: (H, W, 3) float32 perspective-correct barycentrics of the triangle's vertices;
            None when the raster comes from ``rasterize_color`` (colour written directly).
        depth: (H, W) float32 distance along the view axis (mm), +inf for background.
    """

    tri_id: np.ndarray
    bary: np.ndarray | None
    depth: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        """(H, W) bool, True where a triangle covers the pixel."""
        return self.tri_id >= 0


#: relative rounding pad of the per-row spans (``_row_span``; px per px of magnitude):
#: far above float64 rounding, far below a pixel.
_SPAN_PAD = 1e-9


@numba.njit(cache=True, nogil=True)
def _raster_kernel(u, v, w, tris, tri_id, bary, depth, cull, attr, color, drawn):  # pragma: no cover - numba
    """Z-buffer pass. Writes ``bary`` (H, W, 3) when it is not empty, and/or the
    perspective-correct interpolation of ``attr`` (V, C) into ``color`` (H, W, C) when that
    is not empty (so a colour render needs no barycentric buffer and no second pass); and
    ``drawn[f]`` = triangle f passed the camera, area and culling tests, when not empty."""
    h, wd = depth.shape
    want_bary = bary.shape[0] > 0
    want_color = color.shape[0] > 0
    want_drawn = drawn.shape[0] > 0
    nc = attr.shape[1]
    for f in range(tris.shape[0]):
        i0, i1, i2 = tris[f, 0], tris[f, 1], tris[f, 2]
        w0, w1, w2 = w[i0], w[i1], w[i2]
        if w0 <= 0.0 or w1 <= 0.0 or w2 <= 0.0:
            continue  # behind the camera: no clipping, the head never straddles the camera
        x0, y0, x1, y1, x2, y2 = u[i0], v[i0], u[i1], v[i1], u[i2], v[i2]
        area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        if area == 0.0:
            continue
        if cull and area > 0.0:
            continue  # back face: CCW-from-outside triangles are clockwise on a v-down screen
        if want_drawn:
            drawn[f] = True
        xmin = max(int(np.ceil(min(x0, x1, x2))), 0)
        xmax = min(int(np.floor(max(x0, x1, x2))), wd - 1)
        ymin = max(int(np.ceil(min(y0, y1, y2))), 0)
        ymax = min(int(np.floor(max(y0, y1, y2))), h - 1)
        if xmin > xmax or ymin > ymax:
            continue
        inv_area = 1.0 / area
        iw0, iw1, iw2 = 1.0 / w0, 1.0 / w1, 1.0 / w2
        # Edge functions e_k(p) = cross(p_{k+2} - p_{k+1}, p - p_{k+1}) / area, evaluated as
        # (row term - column term) so each pixel costs two products per edge.
        a0x, a0y = (x2 - x1) * inv_area, (y2 - y1) * inv_area
        a1x, a1y = (x0 - x2) * inv_area, (y0 - y2) * inv_area
        # Along a row each e_k is linear in x, so the covered pixels form one span. It is
        # solved per row (``_row_span``) and the exact tests below run only inside it: the
        # same pixels as testing the whole box, with fewer failed tests (~10 % faster at
        # 1x, ~25 % on 2x grids, where the boxes are larger).
        g = a0y + a1y  # e2 = 1 - e0 - e1 = g x - c
        ia0 = 1.0 / a0y if a0y != 0.0 else 0.0
        ia1 = 1.0 / a1y if a1y != 0.0 else 0.0
        ig = 1.0 / g if g != 0.0 else 0.0
        for py in range(ymin, ymax + 1):
            fy = float(py)
            r0 = a0x * (fy - y1)
            r1 = a1x * (fy - y2)
            jlo, jhi = _row_span(r0, r1, a0y, a1y, x1, x2, ia0, ia1, g, ig, xmin, xmax)
            for px in range(jlo, jhi + 1):
                fx = float(px)
                e0 = r0 - a0y * (fx - x1)
                if e0 < 0.0:
                    continue
                e1 = r1 - a1y * (fx - x2)
                if e1 < 0.0:
                    continue
                e2 = 1.0 - e0 - e1
                if e2 < 0.0:
                    continue
                if e0 == 0.0 or e1 == 0.0 or e2 == 0.0:
                    # on an edge: keep only if the edge is top/left (deterministic tie-break,
                    # so pixels on an edge shared by two triangles are drawn once)
                    if e0 == 0.0 and not _top_left(x1, y1, x2, y2, area):
                        continue
                    if e1 == 0.0 and not _top_left(x2, y2, x0, y0, area):
                        continue
                    if e2 == 0.0 and not _top_left(x0, y0, x1, y1, area):
                        continue
                b0, b1, b2 = e0 * iw0, e1 * iw1, e2 * iw2
                z = 1.0 / (b0 + b1 + b2)
                if z < depth[py, px]:
                    depth[py, px] = z
                    tri_id[py, px] = f
                    l0, l1, l2 = numba.float32(b0 * z), numba.float32(b1 * z), numba.float32(b2 * z)
                    if want_bary:
                        bary[py, px, 0] = l0
                        bary[py, px, 1] = l1
                        bary[py, px, 2] = l2
                    if want_color:
                        for k in range(nc):
                            color[py, px, k] = l0 * attr[i0, k] + l1 * attr[i1, k] + l2 * attr[i2, k]


@numba.njit(cache=True, inline="always")
def _top_left(ax, ay, bx, by, area):  # pragma: no cover - numba
    # Orient the edge as if the triangle were counter-clockwise in (u, v).
    if area < 0.0:
        ax, ay, bx, by = bx, by, ax, ay
    dx, dy = bx - ax, by - ay
    return (dy == 0.0 and dx < 0.0) or dy > 0.0


@numba.njit(cache=True, inline="always")
def _row_span(r0, r1, a0y, a1y, x1, x2, ia0, ia1, g, ig, xmin, xmax):  # pragma: no cover - numba
    """The columns [lo, hi] of one row where a triangle's edge functions can all be >= 0.

    Along a row each e_k is linear in x: e0 = r0 - a0y (x - x1), e1 = r1 - a1y (x - x2),
    e2 = 1 - e0 - e1 = g x - c (g = a0y + a1y; ia0, ia1, ig their reciprocals, 0 when the
    slope is 0). Each bound is widened by ``_SPAN_PAD`` of the magnitudes it was computed
    from, so the exact tests that follow inside the span accept the very pixels they would
    accept over the whole box [xmin, xmax]; returns an empty range (lo > hi) for a row the
    triangle cannot cover. The clamps keep a NaN bound (degenerate edge) inside the box.
    """
    lo, hi = float(xmin), float(xmax)
    lo, hi, ok0 = _edge_bound(lo, hi, r0, a0y, x1, ia0)
    lo, hi, ok1 = _edge_bound(lo, hi, r1, a1y, x2, ia1)
    if not (ok0 and ok1):
        return 1, 0
    c0, c1 = a0y * x1, a1y * x2
    c = r0 + r1 - 1.0 + c0 + c1
    pad = _SPAN_PAD * (1.0 + abs(r0) + abs(r1) + abs(c0) + abs(c1))
    if g > 0.0:
        lo = max(lo, (c - pad) * ig)
    elif g < 0.0:
        hi = min(hi, (c - pad) * ig)
    elif c > pad:
        return 1, 0
    return max(int(np.ceil(lo)), xmin), min(int(np.floor(hi)), xmax)


@numba.njit(cache=True, inline="always")
def _edge_bound(lo, hi, r, ay, xk, iay):  # pragma: no cover - numba
    """Narrow [lo, hi] to where e = r - ay (x - xk) >= 0 (padded, see ``_row_span``); the
    flag is False when the row is entirely outside (a horizontal edge with r < 0)."""
    if ay == 0.0:
        return lo, hi, r >= 0.0
    t = r * iay
    b = xk + t
    pad = _SPAN_PAD * (1.0 + abs(xk) + abs(t))
    if ay > 0.0:
        return lo, min(hi, b + pad), True
    return max(lo, b - pad), hi, True


def rasterize(verts_scr: np.ndarray, triangles: np.ndarray, height: int, width: int, cull_backfaces: bool = False) -> RasterOutput:
    """Rasterize triangles given in screen space.

    Args:
        verts_scr: (V, 3) float, columns (u px, v px, depth mm > 0); u, v in the pixel-centre
            convention above, depth = -z_cam.
        triangles: (F, 3) int vertex indices, counter-clockwise seen from outside.
        height, width: output size in pixels.
        cull_backfaces: skip triangles facing away from the camera (valid for closed,
            outward-oriented meshes; saves ~half the work).

    Returns:
        ``RasterOutput`` with (H, W) arrays.
    """
    raster, _ = _rasterize(verts_scr, triangles, height, width, cull_backfaces, None)
    return raster


def rasterize_color(
    verts_scr: np.ndarray, triangles: np.ndarray, vertex_attr: np.ndarray, height: int, width: int,
    cull_backfaces: bool = False, *, drawn: np.ndarray | None = None,
) -> tuple[RasterOutput, np.ndarray]:
    """``rasterize`` and ``interpolate`` in one pass, without a barycentric buffer.

    Args:
        verts_scr, triangles, height, width, cull_backfaces: as in ``rasterize``.
        vertex_attr: (V, C) float per-vertex attribute (e.g. linear RGB).
        drawn: optional (F,) bool array, zeros; set True for the triangles that are in front
            of the camera, not degenerate and not culled (the ones a finer pass may need).

    Returns:
        (raster, attr_px): ``RasterOutput`` whose ``bary`` is None, and the (H, W, C)
        float32 interpolated attribute, 0 where no triangle covers the pixel.
    """
    attr = np.ascontiguousarray(vertex_attr, dtype=np.float32)
    if attr.ndim != 2 or attr.shape[0] != np.shape(verts_scr)[0]:
        raise ValueError(f"vertex_attr must be (V, C) with V = {np.shape(verts_scr)[0]}, got {attr.shape}")
    return _rasterize(verts_scr, triangles, height, width, cull_backfaces, attr, drawn)


def _rasterize(verts_scr, triangles, height, width, cull_backfaces, attr, drawn=None):
    verts_scr = np.asarray(verts_scr)
    triangles = np.asarray(triangles)
    if verts_scr.ndim != 2 or verts_scr.shape[1] != 3:
        raise ValueError(f"verts_scr must be (V, 3) (u, v, depth), got {verts_scr.shape}")
    if triangles.ndim != 2 or triangles.shape[1] != 3:
        raise ValueError(f"triangles must be (F, 3), got {triangles.shape}")
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    vs = np.ascontiguousarray(verts_scr.T, dtype=np.float64)  # (3, V): u, v, depth rows
    tri_id = np.full((height, width), -1, dtype=np.int32)
    depth = np.full((height, width), np.inf, dtype=np.float32)
    if attr is None:
        bary = np.zeros((height, width, 3), dtype=np.float32)
        attr, color = np.zeros((0, 1), np.float32), np.zeros((0, 0, 1), np.float32)
    else:
        bary = np.zeros((0, 0, 3), np.float32)
        color = np.zeros((height, width, attr.shape[1]), dtype=np.float32)
    if drawn is None:
        drawn = np.zeros(0, dtype=np.bool_)
    elif drawn.shape != (triangles.shape[0],) or drawn.dtype != np.bool_:
        raise ValueError(f"drawn must be a ({triangles.shape[0]},) bool array, got {drawn.shape} {drawn.dtype}")
    _raster_kernel(
        vs[0], vs[1], vs[2], np.ascontiguousarray(triangles, dtype=np.int32), tri_id, bary, depth,
        bool(cull_backfaces), attr, color, drawn,
    )
    out = RasterOutput(tri_id=tri_id, bary=bary if bary.shape[0] else None, depth=depth)
    return out, color if color.shape[0] else None


@numba.njit(cache=True, nogil=True)
def _interp_kernel(attr, tris, tri_id, bary, out):  # pragma: no cover - numba
    h, w = tri_id.shape
    c = attr.shape[1]
    for i in range(h):
        for j in range(w):
            f = tri_id[i, j]
            if f < 0:
                continue
            a, b, d = tris[f, 0], tris[f, 1], tris[f, 2]
            for k in range(c):
                out[i, j, k] = bary[i, j, 0] * attr[a, k] + bary[i, j, 1] * attr[b, k] + bary[i, j, 2] * attr[d, k]


def interpolate(vertex_attr: np.ndarray, triangles: np.ndarray, raster: RasterOutput, background: float = 0.0) -> np.ndarray:
    """Interpolate per-vertex attributes over the covered pixels.

    Args:
        vertex_attr: (V, C) float per-vertex attribute (colour, normal, position...).
        triangles: (F, 3) the triangles given to ``rasterize``.
        raster: its output.
        background: value of uncovered pixels.

    Returns:
        (H, W, C) float32.
    """
    attr = np.ascontiguousarray(vertex_attr, dtype=np.float32)
    if attr.ndim != 2:
        raise ValueError(f"vertex_attr must be (V, C), got {attr.shape}")
    if raster.bary is None:
        raise ValueError("raster has no barycentrics (made by rasterize_color); use rasterize")
    h, w = raster.tri_id.shape
    out = np.full((h, w, attr.shape[1]), background, dtype=np.float32)
    _interp_kernel(attr, np.ascontiguousarray(triangles, dtype=np.int32), raster.tri_id, raster.bary, out)
    return out


@numba.njit(cache=True, nogil=True)
def _normals_kernel(verts, tris, out):  # pragma: no cover - numba
    for f in range(tris.shape[0]):
        a, b, c = tris[f, 0], tris[f, 1], tris[f, 2]
        e1x, e1y, e1z = verts[b, 0] - verts[a, 0], verts[b, 1] - verts[a, 1], verts[b, 2] - verts[a, 2]
        e2x, e2y, e2z = verts[c, 0] - verts[a, 0], verts[c, 1] - verts[a, 1], verts[c, 2] - verts[a, 2]
        nx = e1y * e2z - e1z * e2y
        ny = e1z * e2x - e1x * e2z
        nz = e1x * e2y - e1y * e2x
        for k in (a, b, c):  # area-weighted (unnormalised cross product)
            out[k, 0] += nx
            out[k, 1] += ny
            out[k, 2] += nz
    for i in range(out.shape[0]):
        n = np.sqrt(out[i, 0] ** 2 + out[i, 1] ** 2 + out[i, 2] ** 2)
        if n > 0.0:
            out[i, 0] /= n
            out[i, 1] /= n
            out[i, 2] /= n


def vertex_normals(verts: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (outward for CCW-from-outside triangles).

    Args:
        verts: (V, 3) float positions (any frame; normals are in the same frame).
        triangles: (F, 3) int.

    Returns:
        (V, 3) float32 unit normals; zero for vertices used by no triangle.
    """
    v = np.ascontiguousarray(verts, dtype=np.float32)
    out = np.zeros_like(v)
    _normals_kernel(v, np.ascontiguousarray(triangles, dtype=np.int32), out)
    return out


# -- anti-aliasing by supersampling only the pixels on edges -----------------------------------
#
# A face at 128-256 px is tens of thousands of sub-pixel triangles: rasterizing the whole
# frame at S x S sub-samples costs ~S^2 times a 1x pass, yet only the pixels on a
# silhouette or an occlusion edge need more than their centre sample (inside a surface,
# Gouraud shading is smooth already). So: rasterize at 1x, flag the edge pixels
# (``edge_pixels``), and re-rasterize at S x S only inside them (``refine_edges``).


@numba.njit(cache=True, nogil=True)
def _edge_kernel(tri_id, depth, color, depth_jump, color_jump, out):  # pragma: no cover - numba
    """``edge_pixels`` for 3 colour channels: per row, the flags of the right-hand and lower
    neighbour pairs are computed without branches, then applied. The pair pass reads
    coverage and colour from planar uint8 / float32 copies of the two rows involved (a
    rolling pair of row buffers) and compares in float32 (both thresholds rounded to
    float32): so it vectorises, ~1.7x faster than reading the interleaved (H, W, 3) colour
    with float64 thresholds, and needs no full-frame copies."""
    h, w = tri_id.shape
    dj, cj = numba.float32(depth_jump), numba.float32(color_jump)
    cov = np.empty((2, w), np.uint8)
    c0, c1, c2 = np.empty((2, w), np.float32), np.empty((2, w), np.float32), np.empty((2, w), np.float32)
    flag = np.empty(w, np.uint8)
    for i in range(h):
        for r in range(i if i == 0 else i + 1, min(i + 2, h)):  # rows i (first time) and i + 1 into their slots
            q = r % 2
            for j in range(w):
                cov[q, j] = tri_id[r, j] >= 0
                c0[q, j], c1[q, j], c2[q, j] = color[r, j, 0], color[r, j, 1], color[r, j, 2]
        p = i % 2
        for down in range(2):  # 0: pixel (i, j) vs (i, j + 1); 1: vs (i + 1, j)
            if down and i + 1 == h:
                break
            a, n, q = i + down, w - 1 + down, (i + down) % 2
            for j in range(n):
                b = j + 1 - down
                ca, cb = cov[p, j], cov[q, b]
                d0, d1 = depth[i, j], depth[a, b]
                far = np.uint8(abs(d0 - d1) > dj * min(d0, d1))
                hue = (np.uint8(abs(c0[p, j] - c0[q, b]) > cj) | np.uint8(abs(c1[p, j] - c1[q, b]) > cj)
                       | np.uint8(abs(c2[p, j] - c2[q, b]) > cj))
                flag[j] = (ca ^ cb) | (ca & cb & (far | hue))
            for j in range(n):
                if flag[j]:
                    out[i, j] = True
                    out[a, j + 1 - down] = True


def edge_pixels(raster: RasterOutput, color: np.ndarray, depth_jump: float, color_jump: float) -> np.ndarray:
    """Pixels that need more than their centre sample: on a silhouette or a discontinuity.

    A pixel is an edge pixel when one of its 4 neighbours differs in coverage (silhouette),
    lies at a depth differing by more than ``depth_jump`` times the nearer depth (one
    surface in front of another: nose over cheek), or differs in any colour channel by more
    than ``color_jump`` (an eyelid over the eye, a sharp albedo edge). Both pixels of such
    a pair are flagged.

    Args:
        raster: a 1x raster.
        color: (H, W, 3) float32 colour of that raster.
        depth_jump: relative depth threshold (e.g. 0.01 = 1 % of the distance); compared in float32.
        color_jump: absolute colour threshold, in the units of ``color``; compared in float32.

    Returns:
        (H, W) bool.
    """
    color = np.ascontiguousarray(color, dtype=np.float32)
    if color.ndim != 3 or color.shape[2] != 3:
        raise ValueError(f"color must be (H, W, 3), got {color.shape}")
    out = np.zeros(raster.tri_id.shape, dtype=np.bool_)
    _edge_kernel(raster.tri_id, raster.depth, color, float(depth_jump), float(color_jump), out)
    return out


@numba.njit(cache=True, nogil=True)
def _refine_kernel(u, v, w, tris, cull, attr, s, slot, sat, sub_depth, sub_color):  # pragma: no cover - numba
    """Z-buffer the S x S sub-samples of the flagged pixels: ``slot[i, j]`` is the pixel's
    row in ``sub_depth`` (P, S*S) and ``sub_color`` (P, S*S, C), -1 when not flagged; ``sat``
    is the (H+1, W+1) summed-area table of ``slot >= 0`` (a triangle that covers no flagged
    pixel is skipped after four reads). Same coverage rule and tie-breaks as
    ``_raster_kernel``; sub-sample (a, b) of pixel (i, j) sits at hi-res pixel
    (i S + a, j S + b). Each hi-res row is walked over its span (``_row_span``, as in
    ``_raster_kernel``), reading the slot of each sample there. The triangle setup and edge
    tests are written out again rather than shared through inlined helpers: the shared
    version measured ~10 % slower in both kernels."""
    hh, ww = slot.shape[0] * s, slot.shape[1] * s
    nc = attr.shape[1]
    # hi-res row/column -> (pixel, sub-sample): tables, not integer divisions, in the inner loop
    row_pix, row_sub = np.arange(hh) // s, np.arange(hh) % s
    col_pix, col_sub = np.arange(ww) // s, np.arange(ww) % s
    for f in range(tris.shape[0]):
        i0, i1, i2 = tris[f, 0], tris[f, 1], tris[f, 2]
        w0, w1, w2 = w[i0], w[i1], w[i2]
        if w0 <= 0.0 or w1 <= 0.0 or w2 <= 0.0:
            continue
        x0, y0, x1, y1, x2, y2 = u[i0], v[i0], u[i1], v[i1], u[i2], v[i2]
        area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        if area == 0.0:
            continue
        if cull and area > 0.0:
            continue
        xmin = max(int(np.ceil(min(x0, x1, x2))), 0)
        xmax = min(int(np.floor(max(x0, x1, x2))), ww - 1)
        ymin = max(int(np.ceil(min(y0, y1, y2))), 0)
        ymax = min(int(np.floor(max(y0, y1, y2))), hh - 1)
        if xmin > xmax or ymin > ymax:
            continue
        pi0, pi1, pj0, pj1 = ymin // s, ymax // s + 1, xmin // s, xmax // s + 1
        if sat[pi1, pj1] - sat[pi0, pj1] - sat[pi1, pj0] + sat[pi0, pj0] == 0:
            continue  # no flagged pixel under the triangle's box
        inv_area = 1.0 / area
        iw0, iw1, iw2 = 1.0 / w0, 1.0 / w1, 1.0 / w2
        a0x, a0y = (x2 - x1) * inv_area, (y2 - y1) * inv_area
        a1x, a1y = (x0 - x2) * inv_area, (y0 - y2) * inv_area
        g = a0y + a1y
        ia0 = 1.0 / a0y if a0y != 0.0 else 0.0
        ia1 = 1.0 / a1y if a1y != 0.0 else 0.0
        ig = 1.0 / g if g != 0.0 else 0.0
        for py in range(ymin, ymax + 1):
            pi, a = row_pix[py], row_sub[py]
            fy = float(py)
            r0 = a0x * (fy - y1)
            r1 = a1x * (fy - y2)
            jlo, jhi = _row_span(r0, r1, a0y, a1y, x1, x2, ia0, ia1, g, ig, xmin, xmax)
            for px in range(jlo, jhi + 1):
                p = slot[pi, col_pix[px]]
                if p < 0:
                    continue
                fx = float(px)
                e0 = r0 - a0y * (fx - x1)
                if e0 < 0.0:
                    continue
                e1 = r1 - a1y * (fx - x2)
                if e1 < 0.0:
                    continue
                e2 = 1.0 - e0 - e1
                if e2 < 0.0:
                    continue
                if e0 == 0.0 or e1 == 0.0 or e2 == 0.0:
                    if e0 == 0.0 and not _top_left(x1, y1, x2, y2, area):
                        continue
                    if e1 == 0.0 and not _top_left(x2, y2, x0, y0, area):
                        continue
                    if e2 == 0.0 and not _top_left(x0, y0, x1, y1, area):
                        continue
                b0, b1, b2 = e0 * iw0, e1 * iw1, e2 * iw2
                z = 1.0 / (b0 + b1 + b2)
                q = a * s + col_sub[px]
                if z < sub_depth[p, q]:
                    sub_depth[p, q] = z
                    l0, l1, l2 = numba.float32(b0 * z), numba.float32(b1 * z), numba.float32(b2 * z)
                    for k in range(nc):
                        sub_color[p, q, k] = l0 * attr[i0, k] + l1 * attr[i1, k] + l2 * attr[i2, k]


@numba.njit(cache=True, nogil=True)
def _slots_kernel(edges, slot, sat):  # pragma: no cover - numba
    """Number the flagged pixels row-major into ``slot`` (-1 elsewhere) and fill the (H+1,
    W+1) summed-area table ``sat`` of the flags; returns the count."""
    h, w = edges.shape
    n = 0
    for i in range(h):
        row = 0
        for j in range(w):
            if edges[i, j]:
                slot[i, j] = n
                n += 1
                row += 1
            else:
                slot[i, j] = -1
            sat[i + 1, j + 1] = sat[i, j + 1] + row
    return n


@numba.njit(cache=True, nogil=True)
def _resolve_kernel(slot, sub_depth, sub_color, rgb, alpha):  # pragma: no cover - numba
    """Box-filter the sub-samples of each flagged pixel into ``rgb`` (premultiplied: empty
    sub-samples count as 0) and ``alpha`` (covered fraction)."""
    h, w = slot.shape
    ss, nc = sub_depth.shape[1], sub_color.shape[2]
    inv = numba.float32(1.0 / ss)
    for i in range(h):
        for j in range(w):
            p = slot[i, j]
            if p < 0:
                continue
            n = 0
            for q in range(ss):
                n += sub_depth[p, q] < np.inf
            alpha[i, j] = n * inv
            for k in range(nc):
                acc = numba.float32(0.0)
                for q in range(ss):
                    acc += sub_color[p, q, k]
                rgb[i, j, k] = acc * inv


def refine_edges(
    verts_scr_hi: np.ndarray, triangles: np.ndarray, vertex_attr: np.ndarray, edges: np.ndarray, factor: int,
    rgb: np.ndarray, alpha: np.ndarray, cull_backfaces: bool = False,
) -> None:
    """Re-render the flagged pixels from S x S sub-samples each, in place.

    Args:
        verts_scr_hi: (V, 3) screen vertices (u, v, depth) in the S-times-larger pixel grid
            (``synth.render.Camera.supersampled``).
        triangles, vertex_attr, cull_backfaces: as in ``rasterize_color``.
        edges: (H, W) bool pixels to refine (``edge_pixels``), in the 1x grid.
        factor: S.
        rgb: (H, W, C) float32 1x colour; flagged pixels get the mean of their sub-samples
            (empty ones count as 0, i.e. premultiplied by coverage).
        alpha: (H, W) float32 1x coverage; flagged pixels get their covered fraction.
    """
    attr = np.ascontiguousarray(vertex_attr, dtype=np.float32)
    slot = np.empty(edges.shape, dtype=np.int32)
    sat = np.zeros((edges.shape[0] + 1, edges.shape[1] + 1), dtype=np.int32)
    n = _slots_kernel(np.ascontiguousarray(edges, dtype=np.bool_), slot, sat)
    ss = factor * factor
    sub_depth = np.full((n, ss), np.inf, dtype=np.float64)
    sub_color = np.zeros((n, ss, attr.shape[1]), dtype=np.float32)
    vs = np.ascontiguousarray(np.asarray(verts_scr_hi).T, dtype=np.float64)
    _refine_kernel(vs[0], vs[1], vs[2], np.ascontiguousarray(triangles, dtype=np.int32), bool(cull_backfaces),
                   attr, int(factor), slot, sat, sub_depth, sub_color)
    _resolve_kernel(slot, sub_depth, sub_color, rgb, alpha)
