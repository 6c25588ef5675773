"""The rasterizer's contract: coverage, fill rule, depth test, perspective-correct barycentrics."""

from __future__ import annotations

import numpy as np
import pytest

from synth.raster import interpolate, rasterize, vertex_normals


def _slow_reference(verts_scr, tris, h, w):
    """Brute force per pixel and triangle (no fill rule subtleties: points strictly inside)."""
    depth = np.full((h, w), np.inf)
    tri_id = np.full((h, w), -1)
    for f, (a, b, c) in enumerate(tris):
        p = verts_scr[[a, b, c]]
        for i in range(h):
            for j in range(w):
                m = np.array([[p[0, 0] - p[2, 0], p[1, 0] - p[2, 0]], [p[0, 1] - p[2, 1], p[1, 1] - p[2, 1]]])
                l01 = np.linalg.solve(m, [j - p[2, 0], i - p[2, 1]])
                lam = np.array([l01[0], l01[1], 1 - l01.sum()])
                if (lam > 1e-9).all():
                    z = 1.0 / np.sum(lam / p[:, 2])
                    if z < depth[i, j]:
                        depth[i, j], tri_id[i, j] = z, f
    return tri_id, depth


def test_matches_slow_reference_on_random_triangles():
    rng = np.random.default_rng(0)
    h, w = 24, 32
    verts = np.column_stack([rng.uniform(-4, w + 4, 30), rng.uniform(-4, h + 4, 30), rng.uniform(100, 200, 30)])
    tris = rng.integers(0, 30, size=(12, 3))
    tris = tris[(tris[:, 0] != tris[:, 1]) & (tris[:, 1] != tris[:, 2]) & (tris[:, 0] != tris[:, 2])]
    out = rasterize(verts, tris, h, w)
    ref_id, ref_depth = _slow_reference(verts, tris, h, w)
    covered = ref_id >= 0
    # Interior pixels agree exactly; the fill rule only decides pixels exactly on edges.
    assert np.array_equal(out.tri_id[covered], ref_id[covered])
    np.testing.assert_allclose(out.depth[covered], ref_depth[covered], rtol=1e-5)


def _box_coverage(verts_scr, tri, h, w):
    """(h, w) bool: the pixels one triangle covers, by the coverage rule written plainly:
    every pixel of its box, with the kernel's edge-function formulas and top-left tie-break
    (Python floats are the same IEEE doubles). The reference for the kernel's row spans."""
    def top_left(ax, ay, bx, by, area):
        if area < 0:
            ax, ay, bx, by = bx, by, ax, ay
        return (by - ay == 0 and bx - ax < 0) or by - ay > 0

    (x0, y0), (x1, y1), (x2, y2) = (tuple(map(float, verts_scr[i, :2])) for i in tri)
    out = np.zeros((h, w), bool)
    area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    if area == 0:
        return out
    inv = 1.0 / area
    a0x, a0y, a1x, a1y = (x2 - x1) * inv, (y2 - y1) * inv, (x0 - x2) * inv, (y0 - y2) * inv
    for py in range(max(int(np.ceil(min(y0, y1, y2))), 0), min(int(np.floor(max(y0, y1, y2))), h - 1) + 1):
        r0, r1 = a0x * (py - y1), a1x * (py - y2)
        for px in range(max(int(np.ceil(min(x0, x1, x2))), 0), min(int(np.floor(max(x0, x1, x2))), w - 1) + 1):
            e0 = r0 - a0y * (px - x1)
            e1 = r1 - a1y * (px - x2)
            e2 = 1.0 - e0 - e1
            out[py, px] = (e0 >= 0 and e1 >= 0 and e2 >= 0
                           and not (e0 == 0 and not top_left(x1, y1, x2, y2, area))
                           and not (e1 == 0 and not top_left(x2, y2, x0, y0, area))
                           and not (e2 == 0 and not top_left(x0, y0, x1, y1, area)))
    return out


def test_row_spans_cover_exactly_the_pixels_the_box_test_covers():
    # Adversarial triangles: vertices on pixel centres and half-pixels (pixels exactly on
    # edges), near-horizontal and near-vertical edges, slivers, vertices far off screen.
    rng = np.random.default_rng(3)
    h, w = 20, 24
    pts = [rng.integers(-3, 27, (40, 2)).astype(float),
           rng.integers(-6, 54, (40, 2)) / 2.0,
           rng.uniform(-5, 30, (40, 2)),
           rng.uniform(-5, 30, (40, 2)) * [1.0, 1e-9] + [0.0, 9.5],  # almost horizontal strip
           rng.uniform(-5, 30, (40, 2)) * [1e-9, 1.0] + [7.25, 0.0],  # almost vertical strip
           rng.uniform(-3e4, 3e4, (40, 2))]
    xy = np.concatenate(pts)
    verts = np.column_stack([xy, rng.uniform(100, 200, len(xy))])
    tris = np.concatenate([rng.integers(40 * k, 40 * (k + 1), (40, 3)) for k in range(len(pts))]
                          + [rng.integers(0, len(xy), (40, 3))])
    tris = tris[(tris[:, 0] != tris[:, 1]) & (tris[:, 1] != tris[:, 2]) & (tris[:, 0] != tris[:, 2])]
    covered = 0
    for tri in tris:
        mask = rasterize(verts, tri[None], h, w).mask
        assert np.array_equal(mask, _box_coverage(verts, tri, h, w)), tri
        covered += mask.sum()
    assert covered > 1000  # the triangles do cover pixels


def test_shared_edge_pixels_are_drawn_exactly_once():
    # A square split along its diagonal, with pixel centres exactly on the diagonal.
    verts = np.array([[0, 0, 1], [8, 0, 1], [8, 8, 1], [0, 8, 1]], dtype=float)
    tris = np.array([[0, 1, 2], [0, 2, 3]])
    counts = np.zeros((10, 10), int)
    for t in tris:
        counts += rasterize(verts, t[None], 10, 10).mask
    whole = rasterize(verts, tris, 10, 10).mask
    assert counts.max() == 1
    assert np.array_equal(counts.astype(bool), whole)
    # A square of side 8 from pixel centre 0 to 8 covers 8 x 8 pixel centres with top-left fill.
    assert whole.sum() == 64


def test_nearer_triangle_wins_and_depth_is_distance():
    verts = np.array([[0, 0, 50], [20, 0, 50], [0, 20, 50], [0, 0, 30], [20, 0, 30], [0, 20, 30]], dtype=float)
    out = rasterize(verts, np.array([[0, 1, 2], [3, 4, 5]]), 20, 20)
    assert out.tri_id[2, 2] == 1 and out.depth[2, 2] == pytest.approx(30)
    assert np.isinf(out.depth[19, 19]) and out.tri_id[19, 19] == -1


def test_barycentrics_are_perspective_correct():
    # A plane slanted in depth: interpolating 1/w must give the true depth (not linear in w).
    verts = np.array([[0, 0, 10.0], [30, 0, 100.0], [0, 30, 10.0]])
    out = rasterize(verts, np.array([[0, 1, 2]]), 31, 31)
    i, j = 5, 15
    lam_screen = np.array([1 - j / 30 - i / 30, j / 30, i / 30])
    expected_depth = 1.0 / np.sum(lam_screen / verts[:, 2])
    assert out.depth[i, j] == pytest.approx(expected_depth, rel=1e-5)
    interp_depth = interpolate(verts[:, 2:3], np.array([[0, 1, 2]]), out)[i, j, 0]
    assert interp_depth == pytest.approx(expected_depth, rel=1e-5)
    assert out.bary[out.mask].sum(-1) == pytest.approx(1.0, abs=1e-5)


def test_backface_culling_drops_clockwise_seen_from_camera():
    front = np.array([[0, 0, 5], [0, 10, 5], [10, 0, 5]], dtype=float)  # CCW with y up -> CW in (u, v)
    assert rasterize(front, np.array([[0, 1, 2]]), 12, 12, cull_backfaces=True).mask.any()
    assert not rasterize(front, np.array([[0, 2, 1]]), 12, 12, cull_backfaces=True).mask.any()


def test_vertex_normals_of_a_tetrahedron_point_outward():
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32) - 0.25
    tris = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    n = vertex_normals(verts, tris)
    assert np.allclose(np.linalg.norm(n, axis=1), 1, atol=1e-6)
    assert (np.sum(n * verts, axis=1) > 0).all()
