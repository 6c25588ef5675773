"""The built-in default head: the committed asset, its geometry, landmarks and modes."""

from __future__ import annotations

import numpy as np
import pytest

from synth.errors import UserError
from synth.landmarks import FLIP_PERMUTATION, group_indices, landmark_index
from synth.morphable import REGION_NAMES

SKIN_REGIONS = ("skin", "scalp", "neck", "lips", "brows", "eyelids", "mouth_interior", "nostrils")


@pytest.fixture(scope="module")
def model():
    from synth.default_model import load_default_model

    return load_default_model()


@pytest.fixture(scope="module")
def rebuilt():
    from synth.headgen import build_default_head

    return build_default_head()


def _expr(model, **weights):
    w = np.zeros(model.num_expr, np.float32)
    for name, value in weights.items():
        w[model.expr_index(name)] = value
    return model.landmarks(model.shape(expr_weights=w))


# -- the asset is what the script builds ------------------------------------------------------
def test_committed_asset_equals_a_fresh_build(model, rebuilt):
    for key in ("triangles", "landmarks68", "contour_right", "contour_left", "vertex_region"):
        assert np.array_equal(getattr(model, key), getattr(rebuilt, key)), f"{key}: run `make assets`"
    np.testing.assert_allclose(model.mean_shape, rebuilt.mean_shape, atol=1e-4, err_msg="run `make assets`")
    for key in ("id_basis", "expr_basis"):  # stored as float16
        a, b = getattr(model, key), getattr(rebuilt, key)
        np.testing.assert_allclose(a, b.astype(np.float16).astype(np.float32), atol=1e-6, err_msg=key)
    assert model.id_names == rebuilt.id_names and model.expr_names == rebuilt.expr_names
    np.testing.assert_array_equal(model.expr_range, rebuilt.expr_range)
    assert dict(model.meta) == dict(rebuilt.meta)


def test_metadata_and_file_size():
    from synth.default_model import DEFAULT_MODEL_PATH, load_default_model

    m = load_default_model()
    assert m.meta["name"] == "facesynth-default-head"
    assert m.meta["source"] == "procedural (scripts/build_default_head.py)"
    assert m.meta["license"].startswith("Apache-2.0") and m.meta["version"]
    assert DEFAULT_MODEL_PATH.stat().st_size < 5e6
    assert load_default_model() is m  # cached


def test_missing_asset_is_a_user_error(monkeypatch, tmp_path):
    import synth.default_model as dm

    dm.load_default_model.cache_clear()
    monkeypatch.setattr(dm, "DEFAULT_MODEL_PATH", tmp_path / "nope.npz")
    try:
        with pytest.raises(UserError, match="make assets"):
            dm.load_default_model()
    finally:
        dm.load_default_model.cache_clear()


# -- geometry ------------------------------------------------------------------------------------
def test_size_and_proportions_are_human(model):
    v = model.mean_shape
    head = model.region_mask("skin", "scalp")
    lm = model.landmarks()
    width = v[head, 0].max() - v[head, 0].min()
    assert 140.0 < width < 162.0
    chin_to_crown = v[head, 1].max() - lm[landmark_index("jaw_08"), 1]
    assert 215.0 < chin_to_crown < 245.0
    iris = model.region_mask("iris")
    ipd = v[iris & (v[:, 0] > 0), 0].mean() - v[iris & (v[:, 0] < 0), 0].mean()
    assert 58.0 < ipd < 68.0
    mouth_width = lm[landmark_index("l_mouth_corner"), 0] - lm[landmark_index("r_mouth_corner"), 0]
    assert 44.0 < mouth_width < 60.0
    assert 8000 <= model.num_vertices <= 20000


def test_mesh_is_exactly_mirror_symmetric(model):
    from scipy.spatial import cKDTree

    v = model.mean_shape
    d, _ = cKDTree(v).query(v * np.array([-1.0, 1.0, 1.0], np.float32))
    assert d.max() < 1e-4


def test_skin_is_closed_and_consistently_oriented(model):
    skin = model.region_mask(*SKIN_REGIONS)
    tri = model.triangles[skin[model.triangles].all(1)]
    n = model.num_vertices
    directed = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
    key = directed[:, 0].astype(np.int64) * n + directed[:, 1]
    rev = directed[:, 1].astype(np.int64) * n + directed[:, 0]
    assert len(np.unique(key)) == len(key), "an edge is used twice in the same direction"
    assert np.isin(rev, key).all(), "the skin has a hole (an edge with one triangle)"


def test_face_normals_point_outward(model):
    v = model.mean_shape.astype(np.float64)
    face = model.region_mask("skin", "scalp", "neck")
    tri = model.triangles[face[model.triangles].all(1)]
    nrm = np.cross(v[tri[:, 1]] - v[tri[:, 0]], v[tri[:, 2]] - v[tri[:, 0]])
    out = v[tri].mean(1) - np.array([0.0, -10.0, 0.0])
    assert np.mean(np.einsum("ij,ij->i", nrm, out) > 0) > 0.98


def test_regions_present(model):
    counts = np.bincount(model.vertex_region, minlength=len(REGION_NAMES))
    for name in SKIN_REGIONS + ("ears", "sclera", "iris", "teeth"):
        assert counts[REGION_NAMES.index(name)] > 0, name


# -- landmarks -------------------------------------------------------------------------------------
def test_landmarks_mirror_each_other(model):
    lm = model.landmarks()
    mirrored = lm[FLIP_PERMUTATION] * np.array([-1.0, 1.0, 1.0])
    assert np.abs(mirrored - lm).max() < 0.5


def test_landmark_sides_and_order(model):
    lm = model.landmarks()
    assert lm[36, 0] < 0 < lm[45, 0]  # r_ = subject's right = x < 0
    assert lm[0, 0] < 0 < lm[16, 0] and lm[48, 0] < 0 < lm[54, 0]
    assert int(np.argmax(lm[:, 2])) == 30  # nose tip is the most forward
    assert lm[8, 1] == lm[:, 1].min()  # chin is the lowest
    brows, eyes = group_indices("right_brow", "left_brow"), group_indices("right_eye", "left_eye")
    assert lm[brows, 1].min() > lm[eyes, 1].max()
    assert lm[27, 1] > lm[28, 1] > lm[29, 1] > lm[30, 1] > lm[33, 1] > lm[51, 1] > lm[57, 1] > lm[8, 1]
    np.testing.assert_allclose(lm[62], lm[66], atol=0.5)  # closed mouth at rest


def test_contours(model):
    v = model.mean_shape
    for idx, sign in ((model.contour_right, -1.0), (model.contour_left, 1.0)):
        assert 10 <= len(idx) <= 20 and len(np.unique(idx)) == len(idx)
        assert np.all(np.sign(v[idx, 0]) == sign)
    right, left = v[model.contour_right], v[model.contour_left]
    assert right[0, 1] > right[-1, 1] and left[0, 1] < left[-1, 1]  # ear -> chin, chin -> ear
    np.testing.assert_allclose(right[::-1] * [-1, 1, 1], left, atol=1e-4)


# -- expressions -------------------------------------------------------------------------------------
def test_blink_closes_the_eyes(model):
    rest = model.landmarks()
    assert np.linalg.norm(rest[37] - rest[41]) > 5.0
    for side, pairs in (("R", ((37, 41), (38, 40))), ("L", ((43, 47), (44, 46)))):
        lm = _expr(model, **{f"eyeBlink_{side}": 1.0})
        for up, low in pairs:
            assert np.linalg.norm(lm[up] - lm[low]) < 1.0, (side, up, low)
            assert lm[up, 1] < rest[up, 1] - 4.0  # the upper lid came down


def test_closed_lids_cover_the_iris(model):
    """At eyeBlink 1 every iris vertex lies behind the lid (inside the skin), seen from the front."""
    w = np.zeros(model.num_expr, np.float32)
    w[model.expr_index("eyeBlink_L")] = w[model.expr_index("eyeBlink_R")] = 1.0
    v = model.shape(expr_weights=w)
    iris = v[model.region_mask("iris")]
    lids = v[model.region_mask("eyelids")]
    from scipy.spatial import cKDTree

    near = cKDTree(lids[:, :2]).query_ball_point(iris[:, :2], r=2.0)
    front = np.array([lids[k, 2].max() if k else -np.inf for k in near])
    assert np.all(front > iris[:, 2])


def test_jaw_open_parts_the_inner_lips(model):
    lm = _expr(model, jawOpen=1.0)
    assert np.linalg.norm(lm[62] - lm[66]) > 10.0
    lm = _expr(model, jawOpen=1.0, mouthClose=1.0)
    assert np.linalg.norm(lm[62] - lm[66]) < 2.0


def test_mode_names_and_ranges(model):
    assert model.num_id >= 10 and model.num_expr >= 10
    for name in ("head_width", "face_length", "jaw_width", "chin_protrusion", "nose_length", "nose_width",
                 "nose_bridge_height", "brow_ridge", "cheekbones", "eye_spacing", "lip_thickness", "ear_size"):
        assert name in model.id_names
    for name in ("jawOpen", "mouthSmile_L", "mouthSmile_R", "eyeBlink_L", "eyeBlink_R", "browInnerUp",
                 "browDown_L", "browDown_R", "mouthPucker", "cheekPuff", "mouthFrown_L", "eyeWide_R", "eyeSquint_L"):
        assert name in model.expr_names
    np.testing.assert_array_equal(model.expr_range, np.tile([0.0, 1.0], (model.num_expr, 1)))


def test_left_and_right_modes_mirror(model):
    v = model.mean_shape
    flip = np.array([-1.0, 1.0, 1.0], np.float32)
    from scipy.spatial import cKDTree

    _, twin = cKDTree(v).query(v * flip)
    # vertices sharing a position (the closed lips' crease) have ambiguous twins: skip them
    _, inv, cnt = np.unique(v, axis=0, return_inverse=True, return_counts=True)
    single = cnt[inv.ravel()] == 1
    for name in model.expr_names:
        if name.endswith("_L"):
            left = model.expr_basis[model.expr_index(name)]
            right = model.expr_basis[model.expr_index(name[:-2] + "_R")]
            np.testing.assert_allclose(right[single], (left[twin] * flip)[single], atol=2e-2, err_msg=name)


@pytest.mark.parametrize("weight", [-3.0, 3.0])
def test_identity_extremes_stay_heads(model, weight):
    for k, name in enumerate(model.id_names):
        w = np.zeros(model.num_id, np.float32)
        w[k] = weight
        v = model.shape(id_weights=w)
        lm = model.landmarks(v)
        head = model.region_mask("skin", "scalp")
        assert 125.0 < np.ptp(v[head, 0]) < 180.0, name
        assert 45.0 < lm[45, 0] - lm[36, 0] < 110.0, name
        step = np.linalg.norm(model.id_basis[k], axis=1).max() * abs(weight)
        assert step < 25.0, name


def test_expression_basis_is_local(model):
    """Expressions leave the back of the head alone."""
    back = model.mean_shape[:, 2] < -60.0
    assert np.abs(model.expr_basis[:, back]).max() < 1e-3
