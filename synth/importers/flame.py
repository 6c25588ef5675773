"""FLAME ``generic_model.pkl`` (2017/2019/2020/2023) -> ``MorphableModel``.

Source format (a Python 2 pickle; read by ``_safe_pickle``, never ``pickle.load``):
    v_template (V, 3) float64, metres (V = 5023 with eyeballs)
    f (F, 3) uint32, 0-based triangles (F = 9976)
    shapedirs (V, 3, 300 + E): a chumpy ``Ch`` (array under state key ``x``); the first 300
        columns are identity shape, the rest (E = 100) expression. Both are scaled by their
        standard deviation (T. Bolkart, TF_FLAME issue #7 / flame-fitting issue #20), so
        identity weights are N(0, 1) as is; expression modes get ``expr_range = [-3, 3]``.
    posedirs (V, 3, 36), J_regressor (5, V) scipy csc, weights (V, 5), kintree_table (2, 5):
        linear blend skinning with joints global, neck, jaw, left eye, right eye.
    Axes: y up, z out of the face, x toward the subject's left (the project's).
    -> mm = m * 1000.

The jaw is a joint in FLAME, not a blendshape: with ``jaw_open_deg > 0`` the importer adds
an expression mode ``jawOpen`` (range [0, 1]) equal to the displacement (skinning plus pose
correctives) of rotating the jaw joint by ``jaw_open_deg`` about +x on the mean shape, so a
weight w opens the mouth by about ``w * jaw_open_deg`` (a linearisation, fine to ~25 deg).

Landmarks: option ``landmarks`` (required): 68 vertex indices, or a barycentric embedding
(DECA's ``landmark_embedding.npy`` ``full_lmk_*``; the vertex with the largest weight is
used); see ``_indices``. Contours are derived from the jaw landmarks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from synth.errors import UserError
from synth.importers import ImporterOption, register_importer
from synth.importers._assemble import assemble_model
from synth.importers._common import num_modes
from synth.importers._indices import load_landmark_indices
from synth.importers._safe_pickle import as_array, load_pickle
from synth.morphable import MorphableModel

__all__ = ["import_flame", "jaw_rotation_delta"]

_M_TO_MM = 1000.0
_NUM_SHAPE = 300  # identity columns of shapedirs in every FLAME release
_JAW_JOINT = 2  # FLAME kinematic tree: 0 global, 1 neck, 2 jaw, 3 left eye, 4 right eye
_NUM_JOINTS = 5

OPTIONS = (
    ImporterOption("landmarks", Path, None, "68 landmark vertex indices or a barycentric embedding (required)"),
    ImporterOption("landmarks_base", int, None, "0 or 1: first index in the landmark file (default: 1 for .mat, else 0)"),
    ImporterOption("n_id", int, None, "identity (shape) modes to import (default: all 300)"),
    ImporterOption("n_expr", int, None, "expression modes to import (default: all)"),
    ImporterOption("jaw_open_deg", float, 20.0, "add a 'jawOpen' mode rotating the jaw this far at weight 1 (0: none)"),
)


def _rot_x(angle_rad: float) -> np.ndarray:
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def jaw_rotation_delta(v_template: np.ndarray, posedirs: np.ndarray, j_regressor: Any, weights: np.ndarray,
                       angle_rad: float) -> np.ndarray:
    """Vertex displacement of FLAME's linear blend skinning for a jaw rotation about +x.

    Args:
        v_template: (V, 3) rest vertices (any unit). posedirs: (V, 3, 9 * (J - 1)).
        j_regressor: (J, V) dense or scipy sparse. weights: (V, J) skinning weights.
        angle_rad: jaw rotation about the model's +x axis (positive opens the mouth).

    Returns:
        (V, 3) posed minus rest vertices, same unit as ``v_template``.
    """
    joints = np.asarray(j_regressor @ v_template)  # (J, 3)
    rot = _rot_x(angle_rad)
    pose_feature = np.zeros((joints.shape[0] - 1, 9))  # (R_j - I) of joints 1..J-1, row-major
    pose_feature[_JAW_JOINT - 1] = (rot - np.eye(3)).ravel()
    v_posed = v_template + (posedirs.reshape(-1, pose_feature.size) @ pose_feature.ravel()).reshape(-1, 3)
    # Only the jaw moves (its parents are at rest): x -> R (x - J_jaw) + J_jaw, blended by its weight.
    about_jaw = (v_posed - joints[_JAW_JOINT]) @ rot.T + joints[_JAW_JOINT]
    return v_posed + weights[:, _JAW_JOINT : _JAW_JOINT + 1] * (about_jaw - v_posed) - v_template


def _array(d: dict[str, Any], key: str, where: str, ndim: int) -> np.ndarray:
    if key not in d:
        raise UserError(f"{where}: missing key {key!r} (expected a FLAME generic_model.pkl)")
    a = as_array(d[key], key, where)
    if a.ndim != ndim or not np.issubdtype(a.dtype, np.number):
        raise UserError(f"{where}: key {key!r} must be a {ndim}-D numeric array, got shape {a.shape} dtype {a.dtype}")
    return a


@register_importer("flame", OPTIONS)
def import_flame(src: Path, landmarks: Path | None = None, landmarks_base: int | None = None, n_id: int | None = None,
                 n_expr: int | None = None, jaw_open_deg: float = 20.0) -> MorphableModel:
    """Import a FLAME ``generic_model.pkl`` (see the module docstring)."""
    where = str(src)
    d = load_pickle(Path(src))
    if not isinstance(d, dict):
        raise UserError(f"{where}: expected a pickled dict (FLAME generic_model.pkl), got {type(d).__name__}")
    v_template = _array(d, "v_template", where, 2).astype(np.float64)
    nv = v_template.shape[0]
    if v_template.shape[1] != 3:
        raise UserError(f"{where}: v_template must be (V, 3), got {v_template.shape}")
    tris = _array(d, "f", where, 2).astype(np.int64)
    if tris.shape[1] != 3 or tris.min() < 0 or tris.max() >= nv:
        raise UserError(f"{where}: f must be (F, 3) 0-based indices < {nv}, got shape {tris.shape} range {tris.min()}..{tris.max()}")
    shapedirs = _array(d, "shapedirs", where, 3)
    if shapedirs.shape[:2] != (nv, 3):
        raise UserError(f"{where}: shapedirs must be ({nv}, 3, K), got {shapedirs.shape}")
    n_shape_src = min(_NUM_SHAPE, shapedirs.shape[2])
    n_id = num_modes(n_id, n_shape_src, "n_id", where)
    n_expr = num_modes(n_expr, shapedirs.shape[2] - n_shape_src, "n_expr", where)
    if landmarks is None:
        raise UserError(f"{where}: option 'landmarks' is required: 68 vertex indices of this FLAME mesh, or DECA's "
                        "landmark_embedding.npy (faces + barycentric coordinates)")
    lmk = load_landmark_indices(Path(landmarks), nv, tris, landmarks_base)

    id_basis = shapedirs[:, :, :n_id].transpose(2, 0, 1) * _M_TO_MM
    expr_basis = shapedirs[:, :, n_shape_src : n_shape_src + n_expr].transpose(2, 0, 1) * _M_TO_MM
    expr_range = np.tile([-3.0, 3.0], (n_expr, 1))
    expr_names = [f"expr_{k:03d}" for k in range(n_expr)]
    if jaw_open_deg:
        posedirs = _array(d, "posedirs", where, 3)
        weights = _array(d, "weights", where, 2)
        j_reg = as_array(d["J_regressor"], "J_regressor", where) if "J_regressor" in d else None
        if j_reg is None or j_reg.shape != (_NUM_JOINTS, nv) or weights.shape != (nv, _NUM_JOINTS) \
                or posedirs.shape != (nv, 3, 9 * (_NUM_JOINTS - 1)):
            raise UserError(f"{where}: jaw_open_deg needs J_regressor ({_NUM_JOINTS}, {nv}), weights ({nv}, {_NUM_JOINTS}) "
                            f"and posedirs ({nv}, 3, {9 * (_NUM_JOINTS - 1)}); set jaw_open_deg=0 to skip the jaw mode")
        jaw = jaw_rotation_delta(v_template, posedirs, j_reg, weights, np.deg2rad(jaw_open_deg)) * _M_TO_MM
        expr_basis = np.concatenate([expr_basis, jaw[None]], axis=0)
        expr_range = np.concatenate([expr_range, [[0.0, 1.0]]], axis=0)
        expr_names.append("jawOpen")

    return assemble_model(
        where=where,
        verts_mm=v_template * _M_TO_MM,
        triangles=tris,
        lmk68=lmk,
        id_basis=id_basis,
        expr_basis=expr_basis,
        expr_range=expr_range,
        expr_names=tuple(expr_names),
        meta={"name": "flame", "source": f"FLAME ({Path(src).name})",
              "license": "FLAME licence (MPI-IS; non-commercial scientific research use)",
              "importer": "flame", "source_units": "metres (scaled 1000 to mm)",
              "jaw_open_deg": f"{float(jaw_open_deg):g}"},
    )
