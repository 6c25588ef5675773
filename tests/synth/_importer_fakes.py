"""Small synthetic source files in the exact layouts of BFM2009, BFM2017 and FLAME.

The licensed models are not available to tests, so these builders write files with the
real key names, shape patterns, dtypes and index bases, around a procedural "head": an
ellipsoid (radii 78 x 105 x 95 mm, project frame: x toward the subject's left, y up, z out
of the face) with 68 landmarks snapped to the vertices nearest a hand-made frontal layout.
Nothing here comes from a real model.
"""

from __future__ import annotations

import pickle
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import scipy.io
import scipy.sparse

RADII_MM = np.array([78.0, 105.0, 95.0])

# Frontal (x, y) layout in mm of the 68 iBUG points (0-16 jaw from the subject's right ear).
_u = np.linspace(-1.0, 1.0, 17)
_JAW = np.stack([68.0 * np.sin(_u * np.pi / 2), 30.0 - 105.0 * np.cos(_u * np.pi / 2)], axis=1)
_LAYOUT_XY = np.concatenate([
    _JAW,
    [[-50, 45], [-42, 49], [-33, 50], [-24, 49], [-14, 46]],  # right brow, outer -> inner
    [[14, 46], [24, 49], [33, 50], [42, 49], [50, 45]],  # left brow, inner -> outer
    [[0, 30], [0, 20], [0, 10], [0, 0]],  # nose bridge down to the tip (30)
    [[-12, -10], [-6, -11], [0, -12], [6, -11], [12, -10]],  # nostrils
    [[-45, 30], [-35, 35], [-25, 35], [-15, 30], [-25, 26], [-35, 26]],  # right eye
    [[15, 30], [25, 35], [35, 35], [45, 30], [35, 26], [25, 26]],  # left eye
    [[-25, -35], [-15, -29], [-6, -27], [0, -28], [6, -27], [15, -29], [25, -35],
     [15, -42], [6, -45], [0, -45], [-6, -45], [-15, -42]],  # outer lip
    [[-20, -35], [-8, -33], [0, -33], [8, -33], [20, -35], [8, -37], [0, -37], [-8, -37]],  # inner lip
]).astype(np.float64)
EYE_CENTRES_MM = np.array([[-30.0, 30.0], [30.0, 30.0]])


def _ellipsoid_z(xy: np.ndarray) -> np.ndarray:
    return RADII_MM[2] * np.sqrt(np.clip(1 - (xy[:, 0] / RADII_MM[0]) ** 2 - (xy[:, 1] / RADII_MM[1]) ** 2, 0, None))


def _sphere(n_lat: int, n_lon: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit UV sphere (poles on y), triangles counter-clockwise from outside."""
    theta = np.pi * np.arange(1, n_lat) / n_lat
    phi = 2 * np.pi * np.arange(n_lon) / n_lon
    t, p = np.meshgrid(theta, phi, indexing="ij")
    ring = np.stack([np.sin(t) * np.sin(p), np.cos(t), np.sin(t) * np.cos(p)], axis=-1).reshape(-1, 3)
    verts = np.concatenate([[[0, 1, 0]], ring, [[0, -1, 0]]])
    top, bottom = 0, verts.shape[0] - 1
    idx = lambda i, j: 1 + i * n_lon + (j % n_lon)  # noqa: E731
    tris = []
    for j in range(n_lon):
        tris.append([top, idx(0, j), idx(0, j + 1)])
        tris.append([bottom, idx(n_lat - 2, j + 1), idx(n_lat - 2, j)])
        for i in range(n_lat - 2):
            tris += [[idx(i, j), idx(i + 1, j), idx(i + 1, j + 1)], [idx(i, j), idx(i + 1, j + 1), idx(i, j + 1)]]
    tris = np.array(tris)
    n = np.cross(verts[tris[:, 1]] - verts[tris[:, 0]], verts[tris[:, 2]] - verts[tris[:, 0]])
    flip = np.einsum("ij,ij->i", n, verts[tris].mean(axis=1)) < 0  # make every triangle face outward
    tris[flip] = tris[flip][:, ::-1]
    return verts, tris


@dataclass
class FakeHead:
    """A procedural head in the project frame (mm) and its 68 landmark vertex indices."""

    verts_mm: np.ndarray  # (V, 3)
    triangles: np.ndarray  # (F, 3) 0-based, CCW from outside
    lmk68: np.ndarray  # (68,)
    eyeballs: np.ndarray | None = None  # (2, n) vertex indices of the eyeball spheres, if any


def fake_head(face_only: bool = False, eyeballs: bool = False, n_lat: int = 48, n_lon: int = 72) -> FakeHead:
    """An ellipsoid head; ``face_only`` keeps the front (z > -10 mm) like a face mask."""
    unit, tris = _sphere(n_lat, n_lon)
    verts = unit * RADII_MM
    if face_only:
        keep = verts[:, 2] > -10.0
        tri_keep = keep[tris].all(axis=1)
        new = np.cumsum(keep) - 1
        verts, tris = verts[keep], new[tris[tri_keep]]
    targets = np.c_[_LAYOUT_XY, _ellipsoid_z(_LAYOUT_XY)]
    lmk = np.argmin(np.linalg.norm(verts[None] - targets[:, None], axis=2), axis=1)
    balls = None
    if eyeballs:
        ball_unit, ball_tris = _sphere(10, 16)
        parts, part_tris = [verts], [tris]
        balls = []
        for cx, cy in EYE_CENTRES_MM:
            centre = np.array([cx, cy, _ellipsoid_z(np.array([[cx, cy]]))[0] - 11.0])
            start = sum(p.shape[0] for p in parts)
            parts.append(ball_unit * 12.0 + centre)
            part_tris.append(ball_tris + start)
            balls.append(np.arange(start, start + ball_unit.shape[0]))
        verts, tris, balls = np.concatenate(parts), np.concatenate(part_tris), np.array(balls)
    return FakeHead(verts, tris, lmk, balls)


def orthonormal_modes(num_vertices: int, k: int, seed: int = 0) -> np.ndarray:
    """(3V, k) orthonormal columns, interleaved x1 y1 z1 x2 ... (BFM layout)."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((3 * num_vertices, k)))
    return q


# -- BFM2009 -------------------------------------------------------------------------------
BFM09_SHAPE_SD_UM = np.array([8000.0, 5000.0, 2000.0, 1000.0])  # standard deviations, micrometres
BFM09_TEX_SD = np.array([30.0, 10.0])  # colour units (0-255)


def write_bfm2009(path: Path, head: FakeHead, flip_winding: bool = False, drop: tuple[str, ...] = ()) -> dict:
    """``01_MorphableModel.mat`` layout (MATLAB v5, float32, 1-based float ``tl``)."""
    nv = head.verts_mm.shape[0]
    tris = head.triangles[:, ::-1] if flip_winding else head.triangles
    data = {
        "shapeMU": (head.verts_mm.reshape(-1, 1) * 1000.0).astype(np.float32),  # mm -> um
        "shapePC": orthonormal_modes(nv, 4, seed=1).astype(np.float32),
        "shapeEV": BFM09_SHAPE_SD_UM.reshape(-1, 1).astype(np.float32),
        "texMU": np.full((3 * nv, 1), 128.0, np.float32),
        "texPC": orthonormal_modes(nv, 2, seed=2).astype(np.float32),
        "texEV": BFM09_TEX_SD.reshape(-1, 1).astype(np.float32),
        "tl": (tris + 1).astype(np.float64),
        "segbin": np.zeros((nv, 4), np.float64),
    }
    for key in drop:
        data.pop(key)
    scipy.io.savemat(str(path), data, format="5")
    return data


# -- BFM2017 -------------------------------------------------------------------------------
BFM17_SHAPE_VAR = np.array([25.0, 9.0, 1.0])  # mm^2
BFM17_EXPR_VAR = np.array([16.0, 4.0])
BFM17_COLOR_VAR = np.array([0.01, 0.0025])


def write_bfm2017(path: Path, head: FakeHead, unit_scale: float = 1.0, skip: tuple[str, ...] = ()) -> dict:
    """``model2017-1_*.h5`` statismo layout (float32 datasets, 0-based (3, F) cells)."""
    nv = head.verts_mm.shape[0]
    data = {
        "shape/model/mean": (head.verts_mm.reshape(-1) * unit_scale).astype(np.float32),
        "shape/model/pcaBasis": orthonormal_modes(nv, 3, seed=3).astype(np.float32),
        "shape/model/pcaVariance": BFM17_SHAPE_VAR.astype(np.float32),
        "shape/model/noiseVariance": np.float32(0.0),
        "shape/representer/points": (head.verts_mm.T * unit_scale).astype(np.float32),
        "shape/representer/cells": head.triangles.T.astype(np.int32),
        "expression/model/mean": np.tile([0.0, 0.5, 0.0], nv).astype(np.float32),  # +0.5 mm in y
        "expression/model/pcaBasis": orthonormal_modes(nv, 2, seed=4).astype(np.float32),
        "expression/model/pcaVariance": BFM17_EXPR_VAR.astype(np.float32),
        "color/model/mean": np.full(3 * nv, 0.5, np.float32),
        "color/model/pcaBasis": orthonormal_modes(nv, 2, seed=5).astype(np.float32),
        "color/model/pcaVariance": BFM17_COLOR_VAR.astype(np.float32),
    }
    with h5py.File(path, "w") as f:
        for key, value in data.items():
            if key not in skip:
                f[key] = value
        f["metadata/landmarks/json"] = '[{"id": "center.nose.tip", "coordinates": [0, 0, 95]}]'
    return data


# -- FLAME ---------------------------------------------------------------------------------
FLAME_SHAPE_SD_M = np.linspace(0.004, 0.001, 300)  # per-mode standard deviation, metres
FLAME_EXPR_SD_M = np.linspace(0.002, 0.0005, 100)


class _ChFake:  # pickled as chumpy.ch.Ch (module / qualname patched below)
    pass


def flame_dict(head: FakeHead, seed: int = 6) -> dict:
    """The content of ``generic_model.pkl`` (arrays; shapedirs as a fake chumpy Ch)."""
    rng = np.random.default_rng(seed)
    nv = head.verts_mm.shape[0]
    v = head.verts_mm / 1000.0  # metres
    dirs = rng.standard_normal((nv * 3, 400))
    dirs /= np.linalg.norm(dirs, axis=0)
    dirs *= np.r_[FLAME_SHAPE_SD_M, FLAME_EXPR_SD_M]
    ch = _ChFake()
    ch.__dict__.update({"x": dirs.reshape(nv, 3, 400), "_dirty_vars": set(), "label": "shapedirs"})
    # Skinning: joints 0 global, 1 neck, 2 jaw, 3/4 eyes; the jaw drives what lies below the nose.
    weights = np.zeros((nv, 5))
    jaw = v[:, 1] < -0.015
    weights[jaw, 2] = 1.0
    weights[~jaw, 1] = 1.0
    j_reg = np.zeros((5, nv))
    j_reg[:, [np.argmax(v[:, 2]), np.argmin(v[:, 2])]] = 0.5  # every joint midway front-back: the head centre
    return {
        "v_template": v,
        "f": head.triangles.astype(np.uint32),
        "shapedirs": ch,
        "posedirs": np.zeros((nv, 3, 36)),
        "J_regressor": scipy.sparse.csc_matrix(j_reg),
        "weights": weights,
        "kintree_table": np.array([[4294967295, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.int64),
        "J": j_reg @ v,
        "bs_style": "lbs",
        "bs_type": "lrotmin",
    }


def write_pickle_with_fake_chumpy(path: Path, obj: object, protocol: int = 2) -> None:
    """Pickle (protocol 2 like FLAME's files, by default) with ``_ChFake`` posing as ``chumpy.ch.Ch``."""
    mod_chumpy, mod_ch = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")
    saved = {k: sys.modules.get(k) for k in ("chumpy", "chumpy.ch")}
    old_name = (_ChFake.__module__, _ChFake.__qualname__)
    _ChFake.__module__, _ChFake.__qualname__ = "chumpy.ch", "Ch"
    mod_ch.Ch = _ChFake
    sys.modules.update({"chumpy": mod_chumpy, "chumpy.ch": mod_ch})
    try:
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
    finally:
        _ChFake.__module__, _ChFake.__qualname__ = old_name
        for k, m in saved.items():
            if m is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = m


def deca_embedding(head: FakeHead) -> dict:
    """DECA ``landmark_embedding.npy`` content: 68 faces + barycentric coordinates whose
    largest weight is on the landmark vertex."""
    faces = np.array([np.flatnonzero((head.triangles == i).any(axis=1))[0] for i in head.lmk68])
    corner = np.array([int(np.flatnonzero(head.triangles[f] == i)[0]) for f, i in zip(faces, head.lmk68)])
    bary = np.full((68, 3), 0.2)
    bary[np.arange(68), corner] = 0.6
    return {"full_lmk_faces_idx": faces[None].astype(np.int64), "full_lmk_bary_coords": bary[None],
            "static_lmk_faces_idx": faces[17:].astype(np.int64), "static_lmk_bary_coords": bary[17:]}
