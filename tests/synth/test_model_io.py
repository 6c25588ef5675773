"""The facesynth-3dmm file format: round trip, and one clear error per kind of bad file."""

from __future__ import annotations

import numpy as np
import pytest

from synth.errors import UserError
from synth.model_io import load_model, save_model


def test_round_trip_preserves_every_field(tmp_path, tiny_model):
    m = tiny_model(uv=np.zeros((8, 2)), albedo_mean=np.full((8, 3), 0.5), albedo_basis=np.ones((1, 8, 3)))
    m2 = load_model(save_model(m, tmp_path / "m.npz"))
    for key in ("mean_shape", "triangles", "id_basis", "expr_basis", "expr_range", "landmarks68",
                "contour_right", "contour_left", "vertex_region", "uv", "albedo_mean", "albedo_basis"):
        assert np.array_equal(getattr(m, key), getattr(m2, key)), key
    assert m2.expr_names == ("jawOpen", "smile") and m2.meta["name"] == "cube"


def test_half_precision_round_trip_is_close(tmp_path, tiny_model):
    m = tiny_model()
    m2 = load_model(save_model(m, tmp_path / "m.npz", half=True))
    np.testing.assert_allclose(m2.id_basis, m.id_basis, rtol=1e-3, atol=1e-3)


def test_shape_is_mean_plus_weighted_bases(tiny_model):
    m = tiny_model()
    v = m.shape(id_weights=[1.0, -2.0], expr_weights=[0.5])
    np.testing.assert_allclose(v, m.mean_shape + m.id_basis[0] - 2 * m.id_basis[1] + 0.5 * m.expr_basis[0], atol=1e-5)
    with pytest.raises(ValueError, match="3 weights, model has 2"):
        m.shape(id_weights=[1, 2, 3])


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"triangles": np.array([[0, 1, 8]])}, "triangles index vertices 0..7"),
        ({"landmarks68": np.arange(60)}, "landmarks68 must be"),
        ({"mean_shape": np.full((8, 3), np.nan, np.float32)}, "mean_shape contains NaN"),
        ({"expr_range": [[1, 0], [0, 1]]}, "expr_range rows must be"),
        ({"vertex_region": np.full(8, 99)}, "vertex_region values"),
        ({"id_basis": np.zeros((2, 7, 3))}, "id_basis must be"),
    ],
)
def test_invalid_models_are_rejected_with_the_field_named(overrides, message, tiny_model):
    with pytest.raises(UserError, match=message):
        tiny_model(**overrides)


def test_bad_files_name_the_file_and_the_problem(tmp_path, tiny_model):
    with pytest.raises(UserError, match="no such file"):
        load_model(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="junk.npz: not a readable"):
        load_model(tmp_path / "junk.npz")
    path = save_model(tiny_model(), tmp_path / "m.npz")
    with np.load(path) as z:
        data = {k: z[k] for k in z.files if k != "landmarks68"}
    np.savez(tmp_path / "nolmk.npz", **data)
    with pytest.raises(UserError, match=r"nolmk.npz: missing keys \['landmarks68'\]"):
        load_model(tmp_path / "nolmk.npz")
    data["landmarks68"] = np.full(68, 100)
    np.savez(tmp_path / "badidx.npz", **data)
    with pytest.raises(UserError, match="badidx.npz: landmarks68 indexes vertices 0..7"):
        load_model(tmp_path / "badidx.npz")


def test_save_is_atomic_no_partial_file_left(tmp_path, monkeypatch, tiny_model):
    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError):
        save_model(tiny_model(), tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_shape_batch_rows_equal_shape(tiny_model):
    m = tiny_model()
    rng = np.random.default_rng(0)
    ids = rng.standard_normal((5, m.num_id)).astype(np.float32)
    exprs = np.zeros((5, m.num_expr), np.float32)
    exprs[::2, 0] = 0.7  # sparse, some rows neutral
    v = m.shape_batch(ids, exprs)
    assert v.shape == (5, m.num_vertices, 3) and v.dtype == np.float32
    for r in range(5):
        np.testing.assert_allclose(v[r], m.shape(ids[r], exprs[r]), atol=1e-5)
    np.testing.assert_allclose(m.shape_batch(ids[:, :1])[1], m.shape(ids[1, :1]), atol=1e-5)  # trailing modes 0
    np.testing.assert_array_equal(m.shape_batch(np.zeros((2, 0)))[1], m.mean_shape)
    with pytest.raises(ValueError, match=r"id_weights: expected \(2, <= 2\) weights, got \(2, 3\)"):
        m.shape_batch(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="expr_weights"):
        m.shape_batch(np.zeros((2, 2)), np.zeros((3, 1)))
