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
