"""Anti-aliasing in ``render_mesh``: sub-sample coverage, and edge-only supersampling that
matches full supersampling."""

from __future__ import annotations

import numpy as np
import pytest

from synth.geometry import euler_to_matrix
from synth.model_spec import open_model
from synth.raster import RasterOutput, edge_pixels, rasterize_color, refine_edges
from synth.render import Camera, render_mesh


def _square_cam(size: int = 12) -> Camera:
    # f = 100 px at 100 mm: 1 mm on the z = -100 plane is 1 px; centre pixel (cx, cy) = (0, 0).
    return Camera(np.array([[100.0, 0, 0], [0, 100.0, 0], [0, 0, 1]]), size, size)


def _quad(x0: float, x1: float, y0: float, y1: float, z: float = -100.0):
    """Two CCW-from-the-camera triangles covering x0 <= u <= x1, y0 <= v <= y1 (pixels)."""
    # camera frame: u = x (f/depth = 1), v = -y
    verts = np.array([[x0, -y0, z], [x1, -y0, z], [x1, -y1, z], [x0, -y1, z]], dtype=np.float64)
    tris = np.array([[0, 3, 2], [0, 2, 1]])
    return verts, tris


@pytest.mark.parametrize("antialias", ["edges", "full"])
def test_edge_pixel_coverage_is_the_fraction_of_sub_samples_inside(antialias):
    # Right edge at u = 5.1: with 2 x 2 sub-samples at u = j -/+ 0.25, column 5 has one of
    # two sub-sample columns inside (alpha 0.5), column 4 both, column 6 none.
    verts, tris = _quad(-1.0, 5.1, -1.0, 20.0)
    out = render_mesh(verts, tris, np.ones((4, 3)), _square_cam(), supersample=2, antialias=antialias)
    np.testing.assert_allclose(out.alpha[3:8, 4], 1.0)
    np.testing.assert_allclose(out.alpha[3:8, 5], 0.5)
    np.testing.assert_allclose(out.alpha[3:8, 6], 0.0)
    np.testing.assert_allclose(out.rgb[..., 0], out.alpha)  # white, premultiplied by coverage


def test_no_supersampling_is_one_sample_per_pixel():
    verts, tris = _quad(-1.0, 5.1, -1.0, 20.0)
    out = render_mesh(verts, tris, np.ones((4, 3)), _square_cam(), supersample=1)
    assert set(np.unique(out.alpha)) == {0.0, 1.0}
    assert out.alpha[4, 5] == 1.0 and out.alpha[4, 6] == 0.0


def test_edge_pixels_flag_silhouettes_and_depth_steps_not_smooth_surfaces():
    tri_id = np.full((6, 6), -1, np.int32)
    tri_id[:, :4] = 0
    depth = np.where(tri_id >= 0, 100.0, np.inf).astype(np.float32)
    depth[:3, :4] = 80.0  # a nearer surface over the top rows: a 20 % step
    color = np.zeros((6, 6, 3), np.float32)
    edges = edge_pixels(RasterOutput(tri_id, None, depth), color, depth_jump=0.01, color_jump=0.1)
    assert edges[:, 3].all() and edges[:, 4].all()  # silhouette, both sides
    assert edges[2, :4].all() and edges[3, :4].all()  # depth step, both sides
    assert not edges[:, 5].any() and not edges[0, :3].any() and not edges[5, :3].any()


def test_edge_antialiasing_matches_full_supersampling_on_a_head():
    model = open_model("default")
    R = euler_to_matrix(50.0, -20.0, 10.0)
    verts = model.mean_shape @ R.T + np.array([0.0, 0.0, -600.0])
    color = np.clip(0.5 + 0.5 * verts[:, :1] / 100.0, 0, 1) * np.array([1.0, 0.8, 0.6])  # smooth shading
    cam = Camera(np.array([[280.0, 0, 47.5], [0, 280.0, 47.5], [0, 0, 1]]), 96, 96)
    kw = dict(supersample=2, cull_backfaces=True)
    full = render_mesh(verts, model.triangles, color, cam, antialias="full", **kw)
    edges = render_mesh(verts, model.triangles, color, cam, antialias="edges", **kw)
    none = render_mesh(verts, model.triangles, color, cam, supersample=1, cull_backfaces=True)
    silhouette = (full.alpha > 0) & (full.alpha < 1)
    assert silhouette.sum() > 50
    assert 0.0 <= edges.alpha.min() and edges.alpha.max() <= 1.0
    # Edge-only sub-sampling reproduces full supersampling (sub-pixel features missed by the
    # 1x pass are the only difference) and is far closer to it than no anti-aliasing.
    err_edges = np.abs(edges.alpha - full.alpha)
    err_none = np.abs(none.alpha - full.alpha)
    assert err_edges.mean() < 0.1 * err_none.mean()
    assert (err_edges[silhouette] < 1e-6).mean() > 0.95
    assert np.abs(edges.rgb - full.rgb).mean() < 0.1 * np.abs(none.rgb - full.rgb).mean()
    # labels use the 1x raster in edges mode, the supersampled one in full mode
    assert edges.raster.tri_id.shape == (96, 96) and edges.factor == 1
    assert full.raster.tri_id.shape == (192, 192) and full.factor == 2


def test_refining_every_pixel_is_full_supersampling():
    # Triangles (own vertices, one depth each: no depth ties) with corners on sub-sample
    # centres and half-way between them, near-horizontal edges and slivers: refining all
    # pixels must give exactly the box mean of a full 2x pass (same coverage rule, same
    # depth order, same sums).
    rng = np.random.default_rng(5)
    h, w, s = 14, 18, 2
    n = 120
    xy = np.concatenate([rng.integers(-4, 2 * w + 4, (n // 3, 3, 2)).astype(float),
                         rng.integers(-8, 4 * w + 8, (n // 3, 3, 2)) / 2.0,
                         rng.uniform(-4, 2 * w + 4, (n // 3, 3, 2)) * [1.0, 1e-6] + [0.0, 13.5]])
    depth = np.repeat(100.0 + 3.0 * np.arange(n), 3)[:, None]
    verts_hi = np.column_stack([xy.reshape(-1, 2), depth])
    tris = np.arange(3 * n).reshape(n, 3)
    color = rng.uniform(0, 1, (3 * n, 3)).astype(np.float32)
    raster, color_hi = rasterize_color(verts_hi, tris, color, h * s, w * s)
    full_rgb = color_hi.reshape(h, s, w, s, 3).sum(axis=(1, 3)) / (s * s)
    full_alpha = (raster.tri_id >= 0).reshape(h, s, w, s).sum(axis=(1, 3)) / (s * s)
    rgb, alpha = np.zeros((h, w, 3), np.float32), np.zeros((h, w), np.float32)
    refine_edges(verts_hi, tris, color, np.ones((h, w), bool), s, rgb, alpha)
    assert 0.2 < full_alpha.mean() < 1.0
    np.testing.assert_array_equal(alpha, full_alpha)
    np.testing.assert_allclose(rgb, full_rgb, atol=1e-6)


def test_unknown_antialias_mode_is_refused():
    verts, tris = _quad(0.0, 5.0, 0.0, 5.0)
    with pytest.raises(ValueError, match="antialias"):
        render_mesh(verts, tris, np.ones((4, 3)), _square_cam(), antialias="msaa")


def test_auto_antialiasing_picks_full_for_small_images_and_edges_for_large():
    for size, factor in ((96, 2), (256, 1)):
        cam = Camera(np.array([[100.0, 0, 0], [0, 100.0, 0], [0, 0, 1]]), size, size)
        verts, tris = _quad(-1.0, 5.1, -1.0, 20.0)
        assert render_mesh(verts, tris, np.ones((4, 3)), cam, supersample=2).factor == factor


@pytest.mark.parametrize("factor", [2, 3])
def test_full_supersampling_is_the_box_mean_of_the_sub_samples(factor):
    from synth.render import _downsample_kernel

    rng = np.random.default_rng(0)
    h, w = 5, 7
    color = rng.random((h * factor, w * factor, 3), dtype=np.float32)
    tri_id = rng.integers(-1, 3, (h * factor, w * factor)).astype(np.int32)
    color[tri_id < 0] = 0  # empty sub-samples hold 0 (premultiplied)
    rgb, alpha = np.empty((h, w, 3), np.float32), np.empty((h, w), np.float32)
    _downsample_kernel(color, tri_id, factor, rgb, alpha)
    blocks = lambda a: a.reshape(h, factor, w, factor, *a.shape[2:])  # noqa: E731
    np.testing.assert_allclose(rgb, blocks(color).mean(axis=(1, 3)), atol=1e-6)
    np.testing.assert_allclose(alpha, blocks(tri_id >= 0).mean(axis=(1, 3)), atol=1e-6)


def test_edge_pixels_equal_their_definition_on_random_rasters():
    rng = np.random.default_rng(3)
    h, w = 9, 11
    tri_id = rng.integers(-1, 4, (h, w)).astype(np.int32)
    depth = np.where(tri_id >= 0, rng.uniform(500, 520, (h, w)), np.inf).astype(np.float32)
    color = rng.uniform(0, 1, (h, w, 3)).astype(np.float32)
    edges = edge_pixels(RasterOutput(tri_id, None, depth), color, depth_jump=0.01, color_jump=0.5)
    expected = np.zeros((h, w), bool)
    for i in range(h):
        for j in range(w):
            for a, b in ((i, j + 1), (i + 1, j)):
                if a == h or b == w:
                    continue
                ca, cb = tri_id[i, j] >= 0, tri_id[a, b] >= 0
                if ca != cb:  # silhouette
                    expected[i, j] = expected[a, b] = True
                elif ca and cb:  # both covered: a depth step or a colour edge
                    near = min(depth[i, j], depth[a, b])
                    if abs(depth[i, j] - depth[a, b]) > 0.01 * near or (np.abs(color[i, j] - color[a, b]) > 0.5).any():
                        expected[i, j] = expected[a, b] = True
    assert 0 < expected.sum() < h * w
    np.testing.assert_array_equal(edges, expected)
