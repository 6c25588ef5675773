"""Readers: official-layout fixtures convert correctly, malformed inputs name file/line, real data pins conventions."""

from __future__ import annotations

import logging
import pickle

import cv2
import numpy as np
import pytest
import scipy.io
from _reader_fixtures import (
    BUILDERS,
    CELEBA_ROW_000001,
    build_aflw2000,
    build_wflw,
    face68,
    pts_text,
    wflw_line,
    write_3ddfa_mat,
    write_aflw_crops,
    write_celeba,
    write_image,
    write_wflw,
)

from synth.data.readers import READERS, open_dataset
from synth.data.readers.aflw_crops import AFLW21_NAMES, AFLW21_TO_IBUG, aflw21_to_ibug68
from synth.data.readers.celeba import CELEBA_POINTS
from synth.data.readers.wflw import WFLW98_FOR_IBUG68
from synth.data.record import FaceSample
from synth.errors import UserError
from synth.geometry import euler_to_matrix
from synth.landmarks import FLIP_PERMUTATION, NUM_LANDMARKS, landmark_index

L = landmark_index


# ---------------------------------------------------------------------------------------------
# Contract over the registry
# ---------------------------------------------------------------------------------------------
def test_every_registered_reader_has_a_fixture():
    assert set(BUILDERS) == set(READERS)


@pytest.mark.parametrize("kind", sorted(READERS))
def test_reader_contract(kind, tmp_path):
    root, options = BUILDERS[kind](tmp_path)
    ds = open_dataset(kind, root, **options)
    assert len(ds) >= 2 and ds.num_skipped == 0
    ds = pickle.loads(pickle.dumps(ds))  # DataLoader workers get a copy
    for i in range(len(ds)):
        s = ds[i]
        assert isinstance(s, FaceSample)
        assert s.image.dtype == np.uint8 and s.image.ndim == 3 and s.image.shape[2] == 3
        for f, shape, dtype in [("landmarks", (68, 2), np.float32), ("landmark_valid", (68,), bool),
                                ("visible", (68,), bool), ("visible_valid", (68,), bool),
                                ("euler_deg", (3,), np.float32), ("euler_valid", (3,), bool),
                                ("rotation", (3, 3), np.float32), ("bbox", (4,), np.float32)]:
            a = getattr(s, f)
            assert a.shape == shape and a.dtype == dtype, (f, a.shape, a.dtype)
        assert np.all(s.landmarks[~s.landmark_valid] == 0) and np.all(np.isfinite(s.landmarks))
        assert not np.any(s.visible_valid & ~s.landmark_valid)
        assert np.all(s.euler_deg[~s.euler_valid] == 0)
        if s.rotation_valid:
            assert s.euler_valid.all()
            np.testing.assert_allclose(s.rotation, euler_to_matrix(*s.euler_deg), atol=1e-5)
        if s.bbox_valid:
            assert s.bbox[0] <= s.bbox[2] and s.bbox[1] <= s.bbox[3]
        if s.convention == "sparse":
            assert s.landmark_valid.sum() < NUM_LANDMARKS
        assert s.source == type(ds).source and s.name
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_open_dataset_errors(tmp_path):
    with pytest.raises(UserError, match="unknown dataset kind 'nope'"):
        open_dataset("nope", tmp_path)
    with pytest.raises(UserError, match="does not exist"):
        open_dataset("ibug", tmp_path / "missing")


# ---------------------------------------------------------------------------------------------
# AFLW2000-3D / 300W-LP
# ---------------------------------------------------------------------------------------------
def test_aflw2000_conversion(tmp_path):
    root, _ = build_aflw2000(tmp_path)
    ds = open_dataset("aflw2000", root)
    s = ds[1]  # Pose_Para pitch, yaw, roll = -0.3, -0.6, 0.2 rad
    np.testing.assert_allclose(s.euler_deg, np.rad2deg([-0.6, -0.3, 0.2]), rtol=1e-5)
    np.testing.assert_allclose(s.landmarks, face68(seed=1), atol=1e-4)  # pt3d_68[:2].T, unchanged
    np.testing.assert_allclose(s.bbox, [*face68(seed=1).min(0), *face68(seed=1).max(0)], atol=1e-4)
    assert s.landmark_valid.all() and s.rotation_valid and s.convention == "3d" and s.name == "image00001"
    assert not s.visible_valid.any()


def test_aflw2000_angle_filter(tmp_path):
    root, _ = build_aflw2000(tmp_path)
    write_image(root / "image00009.jpg")
    write_3ddfa_mat(root / "image00009.mat", 0.0, np.deg2rad(99.5), 0.0, np.vstack([face68().T, np.zeros((1, 68))]))
    ds = open_dataset("aflw2000", root)
    assert len(ds) == 2 and ds.num_filtered == 1
    assert len(open_dataset("aflw2000", root, max_abs_angle_deg=None)) == 3


def test_300w_lp_layout(tmp_path):
    root, _ = BUILDERS["300w_lp"](tmp_path)
    ds = open_dataset("300w_lp", root)
    assert [ds[i].name for i in range(len(ds))] == ["AFW/AFW_1_0", "AFW_Flip/AFW_1_0"]  # sidecar not a sample
    a, b = ds[0], ds[1]
    np.testing.assert_allclose(a.landmarks, face68(seed=2), atol=1e-4)  # landmarks/AFW/AFW_1_0_pts.mat pts_3d
    assert a.euler_deg[0] == pytest.approx(np.rad2deg(1.9), rel=1e-5)  # no angle filter for 300W-LP
    assert not b.landmark_valid.any() and not b.bbox_valid and b.rotation_valid


def test_aflw2000_malformed(tmp_path, caplog):
    root, _ = build_aflw2000(tmp_path)
    bad = root / "image00000.mat"
    bad.write_bytes(bad.read_bytes()[:200])  # truncated
    with pytest.raises(UserError, match=r"image00000\.mat: cannot read MATLAB file"):
        open_dataset("aflw2000", root)
    with caplog.at_level(logging.WARNING):
        ds = open_dataset("aflw2000", root, skip_bad=True)
    assert len(ds) == 1 and ds.num_skipped == 1 and "image00000.mat" in caplog.text
    scipy.io.savemat(str(bad), {"Pose_Para": np.zeros((1, 3), np.float32), "pt3d_68": np.zeros((3, 68))})
    with pytest.raises(UserError, match=r"image00000\.mat: Pose_Para must be 1x7"):
        open_dataset("aflw2000", root)
    scipy.io.savemat(str(bad), {"Pose_Para": np.zeros((1, 7), np.float32), "pt3d_68": np.zeros((3, 21))})
    with pytest.raises(UserError, match=r"image00000\.mat: pt3d_68 must be 3x68.*\(3, 21\)"):
        open_dataset("aflw2000", root)
    (root / "image00000.jpg").unlink()
    with pytest.raises(UserError, match=r"image00000\.mat: no image next to it"):
        open_dataset("aflw2000", root)


# ---------------------------------------------------------------------------------------------
# 300W .pts
# ---------------------------------------------------------------------------------------------
def test_ibug_one_based_to_zero_based(tmp_path):
    pts = face68()
    write_image(tmp_path / "x.png")
    (tmp_path / "x.pts").write_text(pts_text(pts))
    s = open_dataset("ibug", tmp_path)[0]
    np.testing.assert_allclose(s.landmarks, pts - 1.0, atol=1e-3)
    assert s.convention == "2d" and not s.euler_valid.any() and not s.rotation_valid and s.bbox_valid


@pytest.mark.parametrize("text, where", [
    (pts_text(face68()[:67], n_points=67), r"x\.pts:2: expected 'n_points: 68'"),
    (pts_text(face68()).replace("}\n", ""), r"x\.pts: file ends early; expected '}'"),
    (pts_text(face68()[:67], n_points=68), r"x\.pts:71: expected point 67"),
    (pts_text(face68()).replace("{", "[", 1), r"x\.pts:3: expected '\{'"),
])
def test_ibug_malformed_names_file_and_line(tmp_path, text, where):
    write_image(tmp_path / "x.jpg")
    (tmp_path / "x.pts").write_text(text)
    with pytest.raises(UserError, match=where):
        open_dataset("ibug", tmp_path)
    ds = open_dataset("ibug", tmp_path, skip_bad=True)
    assert len(ds) == 0 and ds.num_skipped == 1


# ---------------------------------------------------------------------------------------------
# WFLW
# ---------------------------------------------------------------------------------------------
def _wflw_mirror() -> np.ndarray:
    """WFLW's own 98-point mirror pairs (as in mmpose ``datasets/wflw.py``)."""
    m = np.arange(98)
    pairs = [(i, 32 - i) for i in range(16)] + [(33 + k, 46 - k) for k in range(5)] + [(38 + k, 50 - k) for k in range(4)]
    pairs += [(55, 59), (56, 58)] + [(60 + k, 72 - k) for k in range(5)] + [(65 + k, 75 - k) for k in range(3)]
    pairs += [(76 + k, 82 - k) for k in range(3)] + [(83, 87), (84, 86), (88, 92), (89, 91), (93, 95), (96, 97)]
    for a, b in pairs:
        m[a], m[b] = b, a
    return m


def test_wflw_mapping_mirror_symmetry():
    w = WFLW98_FOR_IBUG68
    assert len(set(w.tolist())) == 68 and w.min() >= 0 and w.max() <= 95
    # flipping then mapping == mapping then flipping
    np.testing.assert_array_equal(_wflw_mirror()[w], w[FLIP_PERMUTATION])
    # pins: jaw every 2nd contour point, eye corners, nose tip, mouth corners
    assert [w[L(n)] for n in ("jaw_00", "jaw_08", "jaw_16", "r_eye_outer", "r_eye_inner", "l_eye_inner", "l_eye_outer",
                              "nose_bridge_3", "r_mouth_corner", "l_mouth_corner", "lower_lip_inner_mid")] == \
        [0, 16, 32, 60, 64, 68, 72, 54, 76, 82, 94]


def test_wflw_conversion_and_attributes(tmp_path):
    root, opts = build_wflw(tmp_path)
    pts98 = np.stack([np.arange(98.0), 1000 + np.arange(98.0)], 1)
    ann = write_wflw(root, [wflw_line(pts98, box=(3, 4, 50, 40), flags=(1, 0, 1, 0, 0, 1))], split="test")
    ds = open_dataset("wflw", root, split="test")
    s = ds[0]
    np.testing.assert_allclose(s.landmarks[:, 0], WFLW98_FOR_IBUG68)
    np.testing.assert_allclose(s.bbox, [3, 4, 50, 40])
    assert s.name == "0--Parade/0_Parade_1.jpg#1" and s.convention == "2d" and ds.annotation == ann
    assert ds.attributes(0) == {"pose": True, "expression": False, "illumination": True, "make_up": False,
                                "occlusion": False, "blur": True}
    train = open_dataset("wflw", root, **opts)
    assert train.subset("pose").tolist() == [1, 2] and train.subset("blur").tolist() == [2]
    with pytest.raises(KeyError):
        train.subset("hat")


def test_wflw_malformed(tmp_path):
    root, _ = build_wflw(tmp_path)
    good = wflw_line(np.ones((98, 2)))
    write_wflw(root, [good, good.rsplit(" ", 2)[0] + " 0--Parade/0_Parade_1.jpg"])  # one flag dropped
    with pytest.raises(UserError, match=r"list_98pt_rect_attr_train\.txt:2: expected 207 fields .* got 206"):
        open_dataset("wflw", root)
    ds = open_dataset("wflw", root, skip_bad=True)
    assert len(ds) == 1 and ds.num_skipped == 1
    write_wflw(root, [good, wflw_line(np.ones((98, 2)), rel="9--X/missing.jpg")])
    with pytest.raises(UserError, match=r"_train\.txt:2: image .*missing\.jpg does not exist"):
        open_dataset("wflw", root)
    with pytest.raises(UserError, match="WFLW split"):
        open_dataset("wflw", root, split="val")


# ---------------------------------------------------------------------------------------------
# CelebA
# ---------------------------------------------------------------------------------------------
def test_celeba_left_is_image_left_and_mapping(tmp_path):
    write_celeba(tmp_path, {"000001.jpg": CELEBA_ROW_000001}, partition={"000001.jpg": 0})
    ds = open_dataset("celeba", tmp_path)
    s = ds[0]
    five = ds.five_points(0)
    assert CELEBA_POINTS[0] == "lefteye" and five[0, 0] < five[1, 0]  # "left" = image left (subject's right)
    assert s.landmark_valid.sum() == 3 and s.convention == "sparse" and not s.bbox_valid
    np.testing.assert_array_equal(s.landmarks[L("nose_bridge_3")], [77, 142])
    np.testing.assert_array_equal(s.landmarks[L("r_mouth_corner")], [73, 152])  # iBUG 48: image left in a frontal face
    np.testing.assert_array_equal(s.landmarks[L("l_mouth_corner")], [108, 154])
    assert len(open_dataset("celeba", tmp_path, split="train")) == 1
    assert len(open_dataset("celeba", tmp_path, split="test")) == 0


def test_celeba_in_the_wild_boxes(tmp_path):
    write_celeba(tmp_path, {"000001.jpg": (165, 184, 244, 176, 196, 249, 194, 271, 266, 260)}, aligned=False,
                 boxes={"000001.jpg": (95, 71, 226, 313)})
    s = open_dataset("celeba", tmp_path, aligned=False)[0]
    assert s.bbox_valid
    np.testing.assert_array_equal(s.bbox, [95, 71, 95 + 226, 71 + 313])


def test_celeba_malformed(tmp_path):
    write_celeba(tmp_path, {"000001.jpg": CELEBA_ROW_000001, "000002.jpg": CELEBA_ROW_000001}, count=3)
    with pytest.raises(UserError, match=r"list_landmarks_align_celeba\.txt:1: header says 3 images .* 2 lines"):
        open_dataset("celeba", tmp_path)
    write_celeba(tmp_path, {"000001.jpg": CELEBA_ROW_000001, "000002.jpg": CELEBA_ROW_000001[:9]})
    with pytest.raises(UserError, match=r"celeba\.txt:4: expected 11 fields"):
        open_dataset("celeba", tmp_path)
    write_celeba(tmp_path, {"000001.jpg": CELEBA_ROW_000001, "000003.jpg": CELEBA_ROW_000001})
    (tmp_path / "Img" / "img_align_celeba" / "000003.jpg").unlink()
    with pytest.raises(UserError, match=r"celeba\.txt:4: image .*000003\.jpg does not exist"):
        open_dataset("celeba", tmp_path)
    assert open_dataset("celeba", tmp_path, skip_bad=True).num_skipped == 1


# ---------------------------------------------------------------------------------------------
# AFLW crops (tiny files) and image folder
# ---------------------------------------------------------------------------------------------
def test_aflw_crops_conversion(tmp_path):
    pts = np.full((1, 2, 21), -1.0)
    pts[0, 1] = 452.0  # the export's "missing" is (-1, 452)
    pts[0, :, 14] = (160, 220)  # nose centre
    pts[0, :, 6] = (110, 90)  # left eye left corner, maps outside the crop (negative): still valid
    write_aflw_crops(tmp_path, ["image00001.jpg"], np.array([-30.0]), pts, np.array([[100, 100, 340, 340]]))
    s = open_dataset("aflw_crops", tmp_path)[0]
    np.testing.assert_allclose(s.landmarks[L("nose_bridge_3")], [(160 - 100) * 0.5, (220 - 100) * 0.5])
    np.testing.assert_allclose(s.landmarks[L("r_eye_outer")], [5, -5])
    assert s.landmark_valid.sum() == 2 and (s.visible == s.landmark_valid).all() and (s.visible_valid == s.landmark_valid).all()
    assert s.euler_deg.tolist() == [-30, 0, 0] and s.euler_valid.tolist() == [True, False, False] and not s.rotation_valid


def test_aflw21_mapping_is_mirror_consistent():
    mirror = {n: n.replace("left", "@").replace("right", "left").replace("@", "right") for n in AFLW21_NAMES}
    for a, b in mirror.items():
        ta, tb = AFLW21_TO_IBUG[a], AFLW21_TO_IBUG[b]
        assert (ta is None) == (tb is None), (a, b)
        if ta is not None:
            assert FLIP_PERMUTATION[L(ta)] == L(tb), (a, b)


def test_image_folder_and_unreadable_image(tmp_path, caplog):
    root, _ = BUILDERS["image_folder"](tmp_path)
    ds = open_dataset("image_folder", root)
    assert [ds[i].name for i in range(len(ds))] == ["a.png", "sub/b.JPG", "sub/c.webp"]
    (root / "a.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(UserError, match=r"a\.png: image cannot be decoded"):
        ds[0]
    ds = open_dataset("image_folder", root, skip_bad=True)
    with caplog.at_level(logging.WARNING):
        assert ds[0].name == "sub/b.JPG" and ds[0].name == "sub/b.JPG"
    assert ds.num_skipped == 1 and caplog.text.count("a.png") == 1


# ---------------------------------------------------------------------------------------------
# Real data: AFLW2000-3D dev subset
# ---------------------------------------------------------------------------------------------
def _rotation_matrix_m(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """The dataset's RotationMatrix.m, written out (radians)."""
    cp, sp, cy, sy, cr, sr = np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw), np.cos(roll), np.sin(roll)
    rx = np.array([[1, 0, 0], [0, cp, sp], [0, -sp, cp]])
    ry = np.array([[cy, 0, -sy], [0, 1, 0], [sy, 0, cy]])
    rz = np.array([[cr, sr, 0], [-sr, cr, 0], [0, 0, 1]])
    return rx @ ry @ rz


@pytest.fixture(scope="module")
def aflw2000_dev(aflw2000_dev_dir):
    return open_dataset("aflw2000", aflw2000_dev_dir)


def test_aflw2000_dev_all_samples(aflw2000_dev, aflw2000_dev_dir):
    ds = aflw2000_dev
    assert len(ds) == 250 and ds.num_filtered == 0 and ds.num_skipped == 0
    for i in range(len(ds)):
        s = ds[i]
        assert s.image.shape == (450, 450, 3) and s.landmark_valid.all()
        if i % 25 == 0:  # the raw file against the sample
            raw = scipy.io.loadmat(str(aflw2000_dev_dir / f"{s.name}.mat"))
            pitch, yaw, roll = raw["Pose_Para"][0, :3].astype(np.float64)
            np.testing.assert_allclose(s.rotation, _rotation_matrix_m(pitch, yaw, roll), atol=1e-5)
            np.testing.assert_allclose(euler_to_matrix(*s.euler_deg), _rotation_matrix_m(pitch, yaw, roll), atol=1e-5)
            np.testing.assert_allclose(s.landmarks, raw["pt3d_68"][:2].T, atol=1e-4)
    assert np.abs(ds.euler_deg[:, 0]).max() > 75  # the subset is weighted to large yaw


def test_aflw2000_dev_yaw_sign_nose_vs_eyes(aflw2000_dev):
    """yaw > 0 turns the face toward the image's left: the nose tip is left of the eyes' midpoint.

    On faces with |roll| < 30 (one dev photo has yaw -34, roll 57: its image x says little).
    """
    ds = aflw2000_dev
    eyes = [L(n) for n in ("r_eye_outer", "r_eye_inner", "l_eye_inner", "l_eye_outer")]
    dx = ds.landmarks_px[:, L("nose_bridge_3"), 0] - ds.landmarks_px[:, eyes, 0].mean(1)
    yaw, roll = ds.euler_deg[:, 0], ds.euler_deg[:, 2]
    upright = np.abs(roll) < 30
    assert (upright & (yaw > 30)).sum() > 20 and (upright & (yaw < -30)).sum() > 20
    assert np.all(dx[upright & (yaw > 30)] < 0) and np.all(dx[upright & (yaw < -30)] > 0)
    # and the rotation agrees: the model's nose direction +z goes to camera x < 0 for yaw > 0
    z_cam_x = np.array([euler_to_matrix(*e)[0, 2] for e in ds.euler_deg])
    assert np.all(np.sign(z_cam_x[np.abs(yaw) > 5]) == -np.sign(yaw[np.abs(yaw) > 5]))


def test_aflw2000_dev_aflw21_mapping_matches_pt3d(aflw2000_dev_dir, aflw2000_dev):
    """The AFLW 21 -> iBUG table, on the same photos' hand points (pt2d) vs fitted pt3d_68."""
    errs = []
    for i in np.flatnonzero(np.abs(aflw2000_dev.euler_deg[:, 0]) < 30)[:60]:
        raw = scipy.io.loadmat(str(aflw2000_dev_dir / f"{aflw2000_dev[i].name}.mat"), variable_names=["pt2d"])
        pt2d = raw["pt2d"].T
        lmk, valid = aflw21_to_ibug68(pt2d, np.all(pt2d >= 0, axis=1))
        ref = aflw2000_dev.landmarks_px[i]
        iod = np.linalg.norm(ref[L("r_eye_outer")] - ref[L("l_eye_outer")])
        e = np.full(68, np.nan)
        e[valid] = np.linalg.norm(lmk[valid] - ref[valid], axis=1) / iod
        errs.append(e)
    mapped = [L(t) for t in AFLW21_TO_IBUG.values() if t]
    med = np.nanmedian(np.array(errs)[:, mapped], axis=0)
    assert np.all(med < 0.05), dict(zip(mapped, med.round(3)))


def _draw(s: FaceSample, scale: float) -> np.ndarray:
    img = cv2.cvtColor(s.image, cv2.COLOR_RGB2BGR).copy()
    for x, y in s.landmarks[s.landmark_valid]:
        cv2.circle(img, (int(round(x)), int(round(y))), 2, (0, 255, 0), -1)
    if s.rotation_valid:
        o = s.landmarks[L("nose_bridge_3")]
        for axis, colour in zip(np.eye(3), [(0, 0, 255), (0, 255, 0), (255, 0, 0)]):  # x red, y green, z blue
            d = s.rotation.astype(np.float64) @ axis * scale
            cv2.line(img, (int(o[0]), int(o[1])), (int(o[0] + d[0]), int(o[1] - d[1])), colour, 2)
    return img


def test_draw_landmarks_and_pose_axes(aflw2000_dev, tmp_path):
    ds = aflw2000_dev
    picks = [int(np.argmin(np.abs(ds.euler_deg[:, 0] - t))) for t in (-60, 0, 45, 80)]
    tiles = [_draw(ds[i], 80) for i in picks]
    out = tmp_path / "aflw2000_axes.png"
    cv2.imwrite(str(out), np.hstack(tiles))
    back = cv2.imread(str(out))
    assert back.shape == (450, 1800, 3) and out.stat().st_size > 100_000
    changed = np.any(back != np.hstack([cv2.cvtColor(ds[i].image, cv2.COLOR_RGB2BGR) for i in picks]), axis=2)
    assert changed.sum() > 1500


# ---------------------------------------------------------------------------------------------
# Real data: AFLW crops
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def aflw_crops(aflw_crops_dir):
    return open_dataset("aflw_crops", aflw_crops_dir)


def test_aflw_crops_real_counts_and_reads(aflw_crops):
    ds = aflw_crops
    assert len(ds) == 10_000 and ds.num_skipped == 0
    assert (np.abs(ds.yaw_deg) >= 45).sum() == 5745
    for i in range(0, len(ds), 1000):
        s = ds[i]
        assert s.image.shape == (120, 120, 3) and s.euler_valid.tolist() == [True, False, False]
        inside = s.landmarks[s.landmark_valid]
        assert np.mean((inside > -10) & (inside < 130)) > 0.9


def test_aflw_crops_left_is_viewer_left(aflw_crops):
    """AFLW "left" = the image's left: mapped iBUG right-side points lie left on frontal crops."""
    ds = aflw_crops
    pts, val = ds.pts21_px, ds.pts21_valid
    frontal = np.abs(ds.yaw_deg) < 20
    idx = {n: AFLW21_NAMES.index(n) for n in AFLW21_NAMES}
    for a, b, ia, ib in [("left_eye_left_corner", "right_eye_right_corner", "r_eye_outer", "l_eye_outer"),
                         ("left_brow_left_corner", "right_brow_right_corner", "r_brow_outer", "l_brow_outer"),
                         ("mouth_left_corner", "mouth_right_corner", "r_mouth_corner", "l_mouth_corner")]:
        assert AFLW21_TO_IBUG[a] == ia and AFLW21_TO_IBUG[b] == ib
        ok = frontal & val[:, idx[a]] & val[:, idx[b]]
        assert ok.sum() > 500
        assert np.mean(pts[ok, idx[a], 0] < pts[ok, idx[b], 0]) > 0.99


def test_aflw_crops_yaw_sign(aflw_crops):
    """yaw > 30: nose tip left of the visible eye corners' mean (AFLW2000-3D sign), and the reverse."""
    ds = aflw_crops
    nose = AFLW21_NAMES.index("nose_center")
    eyes = [AFLW21_NAMES.index(n) for n in ("left_eye_left_corner", "left_eye_right_corner",
                                            "right_eye_left_corner", "right_eye_right_corner")]
    ev = ds.pts21_valid[:, eyes]
    ok = ds.pts21_valid[:, nose] & ev.any(1)
    eye_x = np.where(ev, ds.pts21_px[:, eyes, 0], 0).sum(1) / np.maximum(ev.sum(1), 1)
    dx = ds.pts21_px[:, nose, 0] - eye_x
    yaw = ds.yaw_deg
    assert np.mean(dx[ok & (yaw > 30)] < 0) > 0.97
    assert np.mean(dx[ok & (yaw < -30)] > 0) > 0.97
