"""Importers: the registry contract, shared helpers, BFM / FLAME on synthetic files with the
real layouts, the restricted unpickler, and ICT-FaceKit on the real folder (one import)."""

from __future__ import annotations

import inspect
import os
import pickle
from pathlib import Path

import h5py
import numpy as np
import trimesh
import pytest
import scipy.io
from hypothesis import given, settings
from hypothesis import strategies as st

from _importer_fakes import (
    BFM09_SHAPE_SD_UM,
    BFM09_TEX_SD,
    BFM17_COLOR_VAR,
    BFM17_EXPR_VAR,
    BFM17_SHAPE_VAR,
    FLAME_EXPR_SD_M,
    FLAME_SHAPE_SD_M,
    deca_embedding,
    fake_head,
    flame_dict,
    write_bfm2009,
    write_bfm2017,
    write_pickle_with_fake_chumpy,
)
from synth.errors import UserError
from synth.importers import IMPORTER_OPTIONS, IMPORTERS, import_model
from synth.importers._common import boundary_loops, cap_loops, contours_from_jaw, orient_outward, submesh, triangulate
from synth.importers._obj import read_obj_topology, read_obj_vertices
from synth.importers._safe_pickle import load_pickle
from synth.landmarks import landmark_index
from synth.model_io import load_model, save_model
from synth.morphable import MorphableModel

NOSE_TIP, CHIN = landmark_index("nose_bridge_3"), landmark_index("jaw_08")
R_EYE_OUT, L_EYE_OUT = landmark_index("r_eye_outer"), landmark_index("l_eye_outer")
EYE_CORNERS = [landmark_index(n) for n in ("r_eye_outer", "r_eye_inner", "l_eye_inner", "l_eye_outer")]


def _vertex_normals(m: MorphableModel) -> np.ndarray:
    v, t = m.mean_shape.astype(np.float64), m.triangles
    n = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])
    out = np.zeros_like(v)
    for k in range(3):
        np.add.at(out, t[:, k], n)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _check_frame(m: MorphableModel) -> None:
    """Conventions every imported model must meet (mm, axes, origin, winding, contours)."""
    lmk = m.landmarks()
    assert 60 < np.linalg.norm(lmk[L_EYE_OUT] - lmk[R_EYE_OUT]) < 140  # mm
    assert lmk[R_EYE_OUT, 0] < 0 < lmk[L_EYE_OUT, 0]  # subject's right at -x
    assert abs(lmk[EYE_CORNERS, 1].mean()) < 1.0 and abs(lmk[EYE_CORNERS, 0].mean()) < 1.0  # origin: eye height, midline
    assert lmk[NOSE_TIP, 2] > lmk[EYE_CORNERS, 2].max()  # looks along +z
    assert _vertex_normals(m)[m.landmarks68[NOSE_TIP], 2] > 0.5  # CCW from outside: outward normal at the nose tip
    cr, cl = m.mean_shape[m.contour_right], m.mean_shape[m.contour_left]
    assert (cr[:, 0] < 0).all() and (cl[:, 0] > 0).all()
    assert cr[0, 1] > cr[-1, 1] and cl[0, 1] < cl[-1, 1]  # right: ear -> chin; left: chin -> ear


# -- registry ------------------------------------------------------------------------------
def test_registry_has_the_four_kinds():
    assert {"ict", "bfm2009", "bfm2017", "flame"} <= set(IMPORTERS)


@pytest.mark.parametrize("kind", sorted(IMPORTERS))
def test_declared_options_match_the_importer_signature(kind):
    params = list(inspect.signature(IMPORTERS[kind]).parameters.values())
    assert params[0].name == "src"
    declared = IMPORTER_OPTIONS[kind]
    assert sorted(o.name for o in declared) == sorted(p.name for p in params[1:])
    for opt in declared:
        assert inspect.signature(IMPORTERS[kind]).parameters[opt.name].default == opt.default
        assert opt.help


def test_unknown_kind_lists_known_kinds(tmp_path):
    with pytest.raises(UserError, match="known kinds: .*bfm2009.*flame.*ict"):
        import_model("nope", tmp_path)


def test_unknown_option_and_missing_source(tmp_path):
    with pytest.raises(UserError, match="unknown option"):
        import_model("bfm2017", tmp_path, colour="red")
    with pytest.raises(UserError, match="no such file"):
        import_model("bfm2017", tmp_path / "missing.h5")


# -- shared helpers ------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(*[st.floats(-1e4, 1e4, allow_nan=False)] * 3), min_size=3, max_size=40))
def test_obj_vertex_reader_agrees_with_a_line_by_line_parse(tmp_path_factory, pts):
    path = tmp_path_factory.mktemp("obj") / "m.obj"
    lines = ["# comment", "mtllib x.mtl"] + [f"v {x!r} {y!r} {z!r}" for x, y, z in pts]
    lines += ["vt 0.5 0.5", "vn 0 0 1", "usemtl A", "f 1/1/1 2/1/1 3/1/1", "f -1 -2 -3"]
    path.write_text("\n".join(lines) + "\n")
    ref = np.array([[float(t) for t in ln.split()[1:4]] for ln in lines if ln.startswith("v ")])
    np.testing.assert_array_equal(read_obj_vertices(path), ref)
    topo = read_obj_topology(path, len(pts))
    assert [p.tolist() for p in topo.polygons] == [[0, 1, 2], [len(pts) - 1, len(pts) - 2, len(pts) - 3]]


def test_obj_reader_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.obj"
    bad.write_text("v 1 2 x\n")
    with pytest.raises(UserError, match="bad.obj"):
        read_obj_vertices(bad)
    bad.write_text("v 1 2 3\nv 1 2 3\nv 1 2 3\n")
    with pytest.raises(UserError, match="expected 4 vertices"):
        read_obj_vertices(bad, expect=4)


def test_triangulate_and_submesh_reindex():
    polys = [np.array([0, 1, 2, 3]), np.array([3, 2, 4]), np.array([4, 5, 6])]
    tris, owner = triangulate(polys)
    assert tris.tolist() == [[0, 1, 2], [0, 2, 3], [3, 2, 4], [4, 5, 6]] and owner.tolist() == [0, 0, 1, 2]
    keep = np.array([1, 1, 1, 1, 1, 0, 1], bool)  # vertex 5 dropped -> triangle 3 and vertex 6 go too
    old_to_new, new_tris, kept = submesh(keep, tris)
    assert kept.tolist() == [0, 1, 2, 3, 4] and old_to_new[6] == -1
    np.testing.assert_array_equal(kept[new_tris], tris[:3])


def test_orient_outward_flips_an_inward_mesh():
    head = fake_head(face_only=True)
    tris, flipped = orient_outward(head.verts_mm, head.triangles[:, ::-1])
    assert flipped and (tris == head.triangles).all()
    assert not orient_outward(head.verts_mm, head.triangles)[1]


def test_boundary_loops_and_caps_close_an_open_box():
    # A cube without its bottom face: one hole of 4 edges; capping it closes the mesh, wound
    # like its neighbours (every directed edge then has its opposite).
    box = trimesh.creation.box()
    bottom = box.triangles_center[:, 2] < -0.49
    tris = box.faces[~bottom]
    (loop,) = boundary_loops(tris, len(box.vertices))
    assert sorted(loop.tolist()) == sorted(np.unique(box.faces[bottom]).tolist())
    capped = cap_loops(tris, [loop], len(box.vertices))
    assert len(capped) == len(tris) + 4 and boundary_loops(capped, len(box.vertices) + 1) == []
    closed = trimesh.Trimesh(np.vstack([box.vertices, box.vertices[loop].mean(0)]), capped, process=False)
    assert closed.is_watertight and closed.is_winding_consistent and closed.volume > 0


def test_contours_from_jaw_run_ear_to_chin_and_chin_to_ear():
    head = fake_head()
    right, left = contours_from_jaw(head.verts_mm, head.lmk68)
    v = head.verts_mm
    assert right[0] == head.lmk68[0] and left[-1] == head.lmk68[16]
    assert head.lmk68[CHIN] not in right and head.lmk68[CHIN] not in left
    assert (v[right, 0] < 0).all() and (v[left, 0] > 0).all() and len(right) > 10


# -- BFM2009 -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bfm09(tmp_path_factory):
    d = tmp_path_factory.mktemp("bfm09")
    head = fake_head(face_only=True)
    src = write_bfm2009(d / "01_MorphableModel.mat", head, flip_winding=True)
    lmk_mat = d / "Model_keypoints.mat"
    scipy.io.savemat(str(lmk_mat), {"keypoints": (head.lmk68 + 1)[None].astype(np.float64)})
    model = import_model("bfm2009", d / "01_MorphableModel.mat", landmarks=str(lmk_mat))
    return head, src, model, d


def test_bfm2009_units_scaling_and_indices(bfm09):
    head, src, m, _ = bfm09
    assert m.num_vertices == head.verts_mm.shape[0] and m.num_id == 4 and m.num_expr == 0
    np.testing.assert_array_equal(m.landmarks68, head.lmk68)  # 1-based .mat -> 0-based
    np.testing.assert_allclose(m.mean_shape - m.mean_shape[0], head.verts_mm - head.verts_mm[0], atol=1e-3)  # um -> mm
    np.testing.assert_allclose(np.linalg.norm(m.id_basis.reshape(4, -1), axis=1), BFM09_SHAPE_SD_UM / 1000, rtol=1e-4)
    np.testing.assert_allclose(m.id_basis[0].reshape(-1), src["shapePC"][:, 0] * BFM09_SHAPE_SD_UM[0] / 1000, atol=1e-5)
    np.testing.assert_allclose(m.albedo_mean, 128 / 255, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(m.albedo_basis.reshape(2, -1), axis=1), BFM09_TEX_SD / 255, rtol=1e-4)
    assert m.meta["triangles_flipped"] == "True"  # the file was wound clockwise
    _check_frame(m)
    # Face-only mesh: origin 95 mm behind the face front at eye height.
    assert m.mean_shape[:, 2].max() == pytest.approx(95.0, abs=3.0)


def test_bfm2009_regions_and_round_trip(bfm09, tmp_path):
    _, _, m, _ = bfm09
    for name in ("lips", "brows", "sclera"):
        assert m.region_mask(name).any(), name
    back = load_model(save_model(m, tmp_path / "bfm09.npz"))
    np.testing.assert_array_equal(back.id_basis, m.id_basis)
    assert back.meta == m.meta and back.num_expr == 0


def test_bfm2009_needs_landmarks_and_good_keys(bfm09, tmp_path):
    head, _, _, d = bfm09
    with pytest.raises(UserError, match="option 'landmarks' is required"):
        import_model("bfm2009", d / "01_MorphableModel.mat")
    write_bfm2009(tmp_path / "no_tl.mat", head, drop=("tl",))
    with pytest.raises(UserError, match=r"no_tl\.mat: missing key 'tl'"):
        import_model("bfm2009", tmp_path / "no_tl.mat", landmarks=d / "Model_keypoints.mat")
    truncated = tmp_path / "trunc.mat"
    truncated.write_bytes((d / "01_MorphableModel.mat").read_bytes()[:5000])
    with pytest.raises(UserError, match="trunc.mat"):
        import_model("bfm2009", truncated, landmarks=d / "Model_keypoints.mat")


def test_bfm2009_matlab_v73_file(bfm09, tmp_path):
    """v7.3 .mat files are HDF5 with a 512-byte MATLAB header; h5py sees arrays transposed."""
    head, src, m, d = bfm09
    path = tmp_path / "v73.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        for key, value in src.items():
            f[key] = np.ascontiguousarray(value.T)
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116) + bytes(8) + b"\x00\x02IM"
    with open(path, "r+b") as f:
        f.write(header)
    m73 = import_model("bfm2009", path, landmarks=d / "Model_keypoints.mat")
    np.testing.assert_array_equal(m73.mean_shape, m.mean_shape)
    np.testing.assert_array_equal(m73.triangles, m.triangles)


def test_landmark_files_base_and_range(bfm09, tmp_path):
    head, _, _, d = bfm09
    txt = tmp_path / "lmk.txt"
    txt.write_text("# 0-based\n" + ", ".join(map(str, head.lmk68)))
    m = import_model("bfm2009", d / "01_MorphableModel.mat", landmarks=txt, n_id="2", n_albedo="0")
    np.testing.assert_array_equal(m.landmarks68, head.lmk68)
    assert m.num_id == 2 and m.albedo_basis.shape[0] == 0
    txt.write_text(" ".join(map(str, head.lmk68[:60])))
    with pytest.raises(UserError, match="expected 68"):
        import_model("bfm2009", d / "01_MorphableModel.mat", landmarks=txt)
    txt.write_text(" ".join(["999999"] * 68))
    with pytest.raises(UserError, match="landmark indices span"):
        import_model("bfm2009", d / "01_MorphableModel.mat", landmarks=txt)


# -- BFM2017 -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bfm17(tmp_path_factory):
    d = tmp_path_factory.mktemp("bfm17")
    head = fake_head()
    src = write_bfm2017(d / "model2017-1_bfm_nomouth.h5", head)
    np.save(d / "lmk.npy", head.lmk68)
    return head, src, import_model("bfm2017", d / "model2017-1_bfm_nomouth.h5", landmarks=d / "lmk.npy"), d


def test_bfm2017_scales_orthonormal_basis_by_sqrt_variance(bfm17):
    head, src, m, _ = bfm17
    assert (m.num_id, m.num_expr, m.albedo_basis.shape[0]) == (3, 2, 2)
    np.testing.assert_allclose(np.linalg.norm(m.id_basis.reshape(3, -1), axis=1), np.sqrt(BFM17_SHAPE_VAR), rtol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(m.expr_basis.reshape(2, -1), axis=1), np.sqrt(BFM17_EXPR_VAR), rtol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(m.albedo_basis.reshape(2, -1), axis=1), np.sqrt(BFM17_COLOR_VAR), rtol=1e-4)
    np.testing.assert_allclose(m.id_basis[1].reshape(-1), src["shape/model/pcaBasis"][:, 1] * 3.0, atol=1e-5)
    np.testing.assert_array_equal(m.expr_range, [[-3, 3], [-3, 3]])
    np.testing.assert_array_equal(m.triangles, head.triangles)  # already 0-based and outward
    # The expression mean (+0.5 mm in y) is folded into the mean shape; translation aside, mm as stored.
    np.testing.assert_allclose(m.mean_shape - m.mean_shape[0], head.verts_mm - head.verts_mm[0], atol=1e-3)
    _check_frame(m)


def test_bfm2017_whole_head_origin_and_regions(bfm17):
    _, _, m, _ = bfm17
    z = m.mean_shape[:, 2]
    assert z.max() == pytest.approx(-z.min(), abs=3.0)  # mid-depth of a whole head
    for name in ("lips", "brows", "sclera", "iris", "scalp", "neck"):
        assert m.region_mask(name).any(), name


def test_bfm2017_bad_files(bfm17, tmp_path):
    head, _, _, d = bfm17
    write_bfm2017(tmp_path / "novar.h5", head, skip=("shape/model/pcaVariance",))
    with pytest.raises(UserError, match=r"novar\.h5: missing key 'shape/model/pcaVariance'"):
        import_model("bfm2017", tmp_path / "novar.h5", landmarks=d / "lmk.npy")
    write_bfm2017(tmp_path / "metres.h5", head, unit_scale=1e-3)
    with pytest.raises(UserError, match="wrong units"):
        import_model("bfm2017", tmp_path / "metres.h5", landmarks=d / "lmk.npy")
    truncated = tmp_path / "trunc.h5"
    truncated.write_bytes((d / "model2017-1_bfm_nomouth.h5").read_bytes()[:3000])
    with pytest.raises(UserError, match="trunc.h5"):
        import_model("bfm2017", truncated, landmarks=d / "lmk.npy")
    with pytest.raises(UserError, match="n_expr=5 is out of range"):
        import_model("bfm2017", d / "model2017-1_bfm_nomouth.h5", landmarks=d / "lmk.npy", n_expr=5)


def test_mirrored_mesh_is_refused(tmp_path):
    head = fake_head()
    head.verts_mm = head.verts_mm * [-1, 1, 1]
    head.triangles = head.triangles[:, ::-1]
    write_bfm2017(tmp_path / "mirror.h5", head)
    np.save(tmp_path / "lmk.npy", head.lmk68)
    with pytest.raises(UserError, match="mirrored"):
        import_model("bfm2017", tmp_path / "mirror.h5", landmarks=tmp_path / "lmk.npy")


# -- FLAME ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def flame(tmp_path_factory):
    d = tmp_path_factory.mktemp("flame")
    head = fake_head(eyeballs=True)
    content = flame_dict(head)
    write_pickle_with_fake_chumpy(d / "generic_model.pkl", content)
    np.save(d / "landmark_embedding.npy", deca_embedding(head), allow_pickle=True)
    m = import_model("flame", d / "generic_model.pkl", landmarks=d / "landmark_embedding.npy")
    return head, content, m, d


def test_flame_pickle_reads_without_chumpy(flame):
    _, content, _, d = flame
    loaded = load_pickle(d / "generic_model.pkl")
    np.testing.assert_array_equal(loaded["shapedirs"].array(), content["shapedirs"].x)
    assert (loaded["J_regressor"].to_scipy() != content["J_regressor"]).nnz == 0


@pytest.mark.parametrize("protocol", [0, 4])
def test_restricted_unpickler_reads_other_protocols(tmp_path, protocol):
    ch = flame_dict(fake_head(n_lat=8, n_lon=8))["shapedirs"]
    write_pickle_with_fake_chumpy(tmp_path / "m.pkl", {"shapedirs": ch, "n": np.float64(2.5)}, protocol=protocol)
    loaded = load_pickle(tmp_path / "m.pkl")
    np.testing.assert_array_equal(loaded["shapedirs"].array(), ch.x)
    assert loaded["n"] == 2.5


def test_flame_units_modes_and_landmarks(flame):
    head, content, m, _ = flame
    np.testing.assert_array_equal(m.landmarks68, head.lmk68)  # largest barycentric weight
    assert (m.num_id, m.num_expr) == (300, 101) and m.expr_names[-1] == "jawOpen"
    np.testing.assert_allclose(np.linalg.norm(m.id_basis.reshape(300, -1), axis=1), FLAME_SHAPE_SD_M * 1000, rtol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(m.expr_basis[:100].reshape(100, -1), axis=1), FLAME_EXPR_SD_M * 1000, rtol=1e-4)
    np.testing.assert_array_equal(m.expr_range[0], [-3, 3])
    np.testing.assert_array_equal(m.expr_range[-1], [0, 1])
    np.testing.assert_allclose(m.mean_shape - m.mean_shape[0], head.verts_mm - head.verts_mm[0], atol=1e-3)  # m -> mm
    _check_frame(m)


def test_flame_jaw_open_moves_the_chin_down_and_eyeballs_are_labelled(flame):
    head, _, m, _ = flame
    w = np.zeros(m.num_expr)
    w[m.expr_index("jawOpen")] = 1.0
    moved = m.landmarks(m.shape(expr_weights=w)) - m.landmarks()
    assert moved[CHIN, 1] < -10.0 and np.abs(moved[landmark_index("nose_bridge_0")]).max() < 1e-4
    iris = m.region_mask("iris")
    assert set(np.flatnonzero(iris)) <= set(head.eyeballs.ravel())
    for ball in head.eyeballs:  # iris on the front of each ball
        assert iris[ball].any() and m.mean_shape[ball[iris[ball]], 2].min() > m.mean_shape[ball, 2].mean()


def test_flame_options_and_errors(flame, tmp_path):
    head, content, _, d = flame
    m = import_model("flame", d / "generic_model.pkl", landmarks=d / "landmark_embedding.npy",
                     n_id=10, n_expr=0, jaw_open_deg="0")
    assert (m.num_id, m.num_expr) == (10, 0)
    with pytest.raises(UserError, match="'landmarks' is required"):
        import_model("flame", d / "generic_model.pkl")
    static = tmp_path / "flame_static_embedding.pkl"
    emb = deca_embedding(head)
    static.write_bytes(pickle.dumps({"lmk_face_idx": emb["static_lmk_faces_idx"], "lmk_b_coords": emb["static_lmk_bary_coords"]}, protocol=2))
    with pytest.raises(UserError, match="51 landmarks.*no jawline"):
        import_model("flame", d / "generic_model.pkl", landmarks=static)
    bad = dict(content, shapedirs=np.zeros((5, 3, 400)))
    write_pickle_with_fake_chumpy(tmp_path / "bad.pkl", bad)
    with pytest.raises(UserError, match=r"bad\.pkl: shapedirs must be"):
        import_model("flame", tmp_path / "bad.pkl", landmarks=d / "landmark_embedding.npy")
    (tmp_path / "trunc.pkl").write_bytes((d / "generic_model.pkl").read_bytes()[:4000])
    with pytest.raises(UserError, match="trunc.pkl: not a readable pickle"):
        import_model("flame", tmp_path / "trunc.pkl", landmarks=d / "landmark_embedding.npy")


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("payload", ["os.system", "eval"])
def test_restricted_unpickler_refuses_code(tmp_path, payload):
    marker = tmp_path / "pwned"
    evil = _Evil(marker) if payload == "os.system" else type("E", (), {"__reduce__": lambda s: (eval, ("1+1",))})()
    path = tmp_path / "generic_model.pkl"
    path.write_bytes(pickle.dumps({"v_template": evil}, protocol=2))
    with pytest.raises(UserError, match=r"generic_model\.pkl: refusing to load the pickled global (posix|os|nt|builtins|__builtin__)\.(system|eval)"):
        import_model("flame", path, landmarks=tmp_path / "unused.npy")
    assert not marker.exists()
    with pytest.raises(UserError, match="refusing"):
        load_pickle(path)


# -- ICT-FaceKit (real data, one import per session) ---------------------------------------
@pytest.fixture(scope="session")
def ict_model(ict_import):
    return ict_import


@pytest.mark.slow
def test_ict_import_is_fast_enough(ict_model):
    assert ict_model[1] < 60.0, f"ICT import took {ict_model[1]:.1f} s"


@pytest.mark.slow
def test_ict_counts_and_parts(ict_model):
    m = ict_model[0]
    # face 0-9408, head+neck 9409-11247, sockets 13294-14061, eyeball shells 2 x 770 (README
    # ranges), plus the centre of the cap that closes the neck
    assert m.num_vertices == 9409 + 1839 + 768 + 2 * 770 + 1
    assert (m.num_id, m.num_expr) == (100, 53) and "jawOpen" in m.expr_names
    assert np.unique(m.triangles).size == m.num_vertices  # no unused vertices
    np.testing.assert_array_equal(m.expr_range, np.tile([0, 1], (53, 1)))
    assert m.meta["license"].startswith("MIT")


@pytest.mark.slow
def test_ict_landmarks_frame_and_units(ict_model):
    m = ict_model[0]
    _check_frame(m)
    lmk = m.landmarks()
    assert np.argmax(lmk[:, 2]) == NOSE_TIP  # the nose tip is the most forward landmark
    assert abs(lmk[R_EYE_OUT, 0] + lmk[L_EYE_OUT, 0]) < 3.0  # symmetric about x = 0
    assert 80 < lmk[L_EYE_OUT, 0] - lmk[R_EYE_OUT, 0] < 100  # cm -> mm: ~89 mm apart
    ears = m.mean_shape[m.region_mask("ears")]
    assert ears.size and abs(ears[:, 0].mean()) < 2.0 and abs(ears[:, 2].mean()) < 30.0  # origin between the ears


@pytest.mark.slow
def test_ict_jaw_open_and_identity_scale(ict_model):
    m = ict_model[0]
    w = np.zeros(m.num_expr)
    w[m.expr_index("jawOpen")] = 1.0
    assert (m.landmarks(m.shape(expr_weights=w)) - m.landmarks())[CHIN, 1] < -10.0
    rms = np.sqrt((m.id_basis[:, m.landmarks68] ** 2).sum(-1).mean(-1))  # mm per unit weight at the landmarks
    assert (rms > 0.01).all() and 1.0 < rms[0] < 20.0 and rms[:10].mean() > 5 * rms[-10:].mean()  # PCA: decaying
    rng = np.random.default_rng(0)
    for _ in range(5):  # N(0, 1) weights give plausible faces
        lmk = m.landmarks(m.shape(id_weights=rng.standard_normal(m.num_id)))
        assert 70 < np.linalg.norm(lmk[L_EYE_OUT] - lmk[R_EYE_OUT]) < 115


@pytest.mark.slow
def test_ict_neck_is_closed_and_the_cap_follows_the_model(ict_model):
    # A shell open at the neck shows its inside from below and behind (and nothing at all
    # with back faces culled): the importer caps the neck's cut. The only hole left is the
    # mouth, between the lips (above the chin).
    m = ict_model[0]
    loops = boundary_loops(m.triangles, m.num_vertices)
    assert all(m.mean_shape[lp, 1].mean() > m.landmarks()[CHIN, 1] for lp in loops)
    # the cap's centre is the mean of its ring under any identity and expression
    cap = m.num_vertices - 1
    ring = np.unique(m.triangles[(m.triangles == cap).any(1)])
    ring = ring[ring != cap]
    rng = np.random.default_rng(1)
    v = m.shape(rng.standard_normal(m.num_id), rng.uniform(0, 1, m.num_expr))
    np.testing.assert_allclose(v[cap], v[ring].mean(0), atol=1e-3)
    assert v[cap, 1] < m.landmarks(v)[CHIN, 1] - 30.0


@pytest.mark.slow
def test_ict_regions(ict_model):
    m = ict_model[0]
    v = m.mean_shape
    for name in ("skin", "scalp", "neck", "ears", "lips", "brows", "eyelids", "sclera", "iris"):
        assert m.region_mask(name).any(), name
    iris = v[m.region_mask("iris")]
    assert (iris[:, 0] < 0).any() and (iris[:, 0] > 0).any()
    lips = v[m.region_mask("lips")]
    assert abs(lips[:, 0].mean()) < 2 and lips[:, 1].mean() < m.landmarks()[NOSE_TIP, 1]


@pytest.mark.slow
def test_ict_round_trip(ict_model, tmp_path):
    m = ict_model[0]
    back = load_model(save_model(m, tmp_path / "ict.npz"))
    np.testing.assert_array_equal(back.mean_shape, m.mean_shape)
    np.testing.assert_array_equal(back.expr_basis, m.expr_basis)
    assert back.expr_names == m.expr_names and back.meta == m.meta


def test_ict_bad_folder_and_parts(tmp_path):
    with pytest.raises(UserError, match="not an ICT-FaceKit FaceXModel folder"):
        import_model("ict", tmp_path)
    (tmp_path / "generic_neutral_mesh.obj").write_text("v 0 0 0\n")
    (tmp_path / "vertex_indices.json").write_text('{"expressions": []}')
    with pytest.raises(UserError, match="unknown ICT part 'nose'"):
        import_model("ict", tmp_path, parts="face,nose")
    with pytest.raises(UserError, match="must include 'face'"):
        import_model("ict", tmp_path, parts="eyeballs")
    with pytest.raises(UserError, match="expected 26719 vertices"):
        import_model("ict", tmp_path)
