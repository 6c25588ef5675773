"""Level-of-detail models (``synth.decimate``): a vertex subset that keeps what labels read.

Run on the built-in head and on the real ICT-FaceKit head (skipped with a reason where
../shared lacks it).
"""

from __future__ import annotations

import numpy as np
import pytest

from synth.decimate import decimate, face_mm_per_px, locked_vertices, lod_model
from synth.errors import UserError
from synth.gen_config import resolve_config
from synth.geometry import euler_to_matrix
from synth.labels import contour_table
from synth.raster import vertex_normals
from synth.render import Camera, render_mesh
from synth.sample import SampleMaker


@pytest.fixture(scope="module", params=["default", "ict"])
def head(request):
    if request.param == "ict":
        return request.getfixturevalue("ict_import")[0]
    from synth.default_model import load_default_model

    return load_default_model()


@pytest.fixture(scope="module")
def halved(head):  # a third of the triangles, in fact
    lod, kept = decimate(head, head.num_triangles // 3)
    return head, lod, kept


def _edges(tris: np.ndarray) -> np.ndarray:
    """(3F, 2) directed edges of the triangles."""
    return np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]])


def test_decimated_model_is_a_vertex_subset_with_the_same_labelled_vertices(halved):
    head, lod, kept = halved
    assert lod.num_triangles <= head.num_triangles // 3
    assert np.all(np.diff(kept) > 0)
    np.testing.assert_array_equal(lod.mean_shape, head.mean_shape[kept])
    np.testing.assert_array_equal(lod.id_basis, head.id_basis[:, kept])
    np.testing.assert_array_equal(lod.expr_basis, head.expr_basis[:, kept])
    np.testing.assert_array_equal(lod.vertex_region, head.vertex_region[kept])
    np.testing.assert_array_equal(kept[lod.landmarks68], head.landmarks68)
    np.testing.assert_array_equal(kept[lod.contour_right], head.contour_right)
    np.testing.assert_array_equal(kept[lod.contour_left], head.contour_left)
    # the 2D-contour convention marches over the same candidate vertices
    full_table, lod_table = contour_table(head), contour_table(lod)
    for j, cand in full_table.parallels.items():
        np.testing.assert_array_equal(kept[lod_table.parallels[j]], cand)
    # so the same weights give the same landmarks
    w_id, w_ex = np.linspace(-1, 1, head.num_id), np.full(head.num_expr, 0.3)
    np.testing.assert_allclose(lod.shape(w_id, w_ex)[lod.landmarks68], head.shape(w_id, w_ex)[head.landmarks68],
                               atol=1e-4)


def test_labelled_vertices_keep_their_triangles_and_normals(halved):
    head, lod, kept = halved
    lock = locked_vertices(head)
    assert lock[kept].sum() == lock.sum()  # every locked vertex survives
    full_n, lod_n = vertex_normals(head.mean_shape, head.triangles), vertex_normals(lod.mean_shape, lod.triangles)
    lod_tris = kept[lod.triangles]  # in source vertex indices
    for v in np.union1d(head.landmarks68, contour_table(head).candidates):
        fan = {tuple(t) for t in head.triangles[(head.triangles == v).any(1)]}
        assert {tuple(t) for t in lod_tris[(lod_tris == v).any(1)]} == fan, v
    np.testing.assert_allclose(lod_n[lod.landmarks68], full_n[head.landmarks68], atol=1e-6)


def test_aggressive_decimation_keeps_every_closed_part_a_solid(head):
    """Far past any sensible budget, no triangle is made twice (a closed part such as the
    teeth would otherwise fold into two copies of one triangle) and every closed part
    keeps at least a tetrahedron."""
    lod, kept = decimate(head, 500, 20.0)
    faces = np.sort(lod.triangles, axis=1)
    assert len(np.unique(faces, axis=0)) == len(faces)
    assert (np.diff(faces, axis=1) > 0).all()  # no degenerate triangle either
    # connected components of the decimated mesh: each has >= 4 vertices
    parent = np.arange(lod.num_vertices)

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, c in lod.triangles:
        for x, y in ((a, b), (b, c)):
            rx, ry = find(x), find(y)
            if rx != ry:
                parent[rx] = ry
    used = np.unique(lod.triangles)
    _, sizes = np.unique([find(x) for x in used], return_counts=True)
    assert sizes.min() >= 4


def test_mesh_keeps_its_borders_and_orientation(halved):
    head, lod, kept = halved
    full_e, lod_e = _edges(head.triangles.astype(np.int64)), _edges(kept[lod.triangles])

    def border(e):  # undirected edges of one triangle: the open borders
        key, count = np.unique(np.sort(e, axis=1), axis=0, return_counts=True)
        return {tuple(k) for k in key[count == 1]}

    def misoriented(e):  # directed edges used twice: two triangles disagree on orientation
        return len(e) - len(np.unique(e, axis=0))

    assert border(lod_e) == border(full_e)
    assert misoriented(lod_e) <= misoriented(full_e)  # (the built-in head's teeth have a few)
    # a region border stays where it was: every LOD edge between regions was a source edge
    reg = head.vertex_region
    cross = lod_e[reg[lod_e[:, 0]] != reg[lod_e[:, 1]]]
    full_set = {tuple(x) for x in full_e}
    assert all(tuple(x) in full_set for x in cross)


@pytest.mark.parametrize("yaw", [0.0, 70.0])
@pytest.mark.parametrize("expression", ["neutral", "strongest"])
def test_decimated_head_renders_the_same_silhouette_and_depth(halved, yaw, expression):
    """Neutral, and with the expression that moves the mesh most at its extreme (the
    decimation's error is summed over such shapes, so it holds there too)."""
    head, lod, _ = halved
    expr = np.zeros(head.num_expr)
    if expression == "strongest":
        extreme = np.where(np.abs(head.expr_range[:, 1]) >= np.abs(head.expr_range[:, 0]),
                           head.expr_range[:, 1], head.expr_range[:, 0])
        k = int(np.argmax(np.abs(extreme) * np.linalg.norm(head.expr_basis, axis=(1, 2))))
        expr[k] = extreme[k]
    R = euler_to_matrix(yaw, 10.0, 0.0)
    t = np.array([0.0, 0.0, -700.0])
    cam = Camera(np.array([[400.0, 0, 63.5], [0, 400.0, 63.5], [0, 0, 1]]), 128, 128)
    renders = []
    for model in (head, lod):
        verts = (model.shape(None, expr) @ R.T + t).astype(np.float32)
        renders.append(render_mesh(verts, model.triangles, np.ones((model.num_vertices, 3), np.float32), cam,
                                   2, True, "full"))
    full, low = renders
    a, b = full.alpha > 0.5, low.alpha > 0.5
    assert (a & b).sum() / (a | b).sum() > 0.98
    da, db = full.raster.depth, low.raster.depth
    both = np.isfinite(da) & np.isfinite(db)
    assert np.median(np.abs(da[both] - db[both])) < 0.3  # mm


def test_error_bound_and_budget(head):
    coarse = decimate(head, 0, 0.5)[0].num_triangles
    fine = decimate(head, 0, 0.05)[0].num_triangles
    assert fine > coarse
    assert decimate(head, head.num_triangles // 3, 0.05)[0].num_triangles == fine  # the bound wins
    assert decimate(head, 4 * head.num_triangles // 5)[0].num_triangles == 4 * head.num_triangles // 5  # the budget
    a, b = decimate(head, head.num_triangles // 2)[0], decimate(head, head.num_triangles // 2)[0]
    np.testing.assert_array_equal(a.triangles, b.triangles)  # deterministic (across processes:
    # tests/synth/test_generate.py's byte-identity tests decimate in each process)


def test_lod_model_budget_follows_the_image_size(head):
    assert lod_model(head, 128, 0.0) is head
    assert lod_model(head, 4096, 0.5) is head
    small = lod_model(head, 96, 0.5)
    assert small.num_triangles < head.num_triangles
    assert lod_model(head, 96, 0.5) is small  # cached
    assert lod_model(head, 128, 0.5).num_triangles > small.num_triangles
    assert face_mm_per_px(head, 256, 1.25) == pytest.approx(face_mm_per_px(head, 128, 1.25) / 2)


def test_samples_from_the_lod_have_the_full_models_landmarks(head):
    overrides = ["crop.image_size=96", "occluders.p_hand=0", "occluders.p_object=0", "occluders.p_rgba=0"]
    full = SampleMaker(resolve_config(overrides=[*overrides, "render.triangles_per_px=0"]), head)
    lod = SampleMaker(resolve_config(overrides=overrides), head)
    assert lod.model.num_triangles < head.num_triangles
    agree = total = contour_same = contour_total = 0
    for i in range(6):
        a, b = full(i), lod(i)
        for key in ("lmk2d", "lmk3d_cam", "euler_deg", "bbox", "id_weights", "expr_weights"):
            np.testing.assert_allclose(a[key], b[key], atol=1e-3, err_msg=key)
        for key in ("visible", "visible_contour"):
            agree += (a[key] == b[key]).sum()
            total += a[key].size
        # 2D contour points march over the same candidates: equal wherever their visibility is
        same = np.all(np.isclose(a["lmk2d_contour"], b["lmk2d_contour"], atol=1e-3), axis=1)
        contour_same += same.sum()
        contour_total += same.size
    # visibility: same fans at the landmarks; the rest of the head may hide a point or not
    assert agree / total > 0.95
    assert contour_same / contour_total > 0.95


@pytest.mark.parametrize("override", ["render.triangles_per_px=-1", "render.lod_max_error_px=0"])
def test_bad_lod_settings_are_refused(override):
    with pytest.raises(UserError, match=override.split("=")[0]):
        resolve_config(overrides=[override])
