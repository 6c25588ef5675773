"""Basel Face Model 2009 (``.mat``) and 2017/2019 (``.h5``) -> ``MorphableModel``.

BFM2009 ``01_MorphableModel.mat`` (MATLAB v5; v7.3/HDF5 also read):
    shapeMU (3V, 1) interleaved x1 y1 z1 x2 ..., micrometres (the mean face is ~150,000 wide)
    shapePC (3V, K) orthonormal columns; shapeEV (K, 1) standard deviations (not variances:
        ``shapePC * shapeEV`` gives N(0, 1) weights, as in eos' convert-bfm2009 script)
    texMU (3V, 1), texPC (3V, K), texEV (K, 1): colour 0-255, same scaling
    tl (F, 3) 1-based triangles (float); segbin / segMM / segMB (segments, unused)
    -> mm = um / 1000; no expression model; albedo = tex / 255 (display-encoded RGB as
    stored, see meta ``albedo_encoding``).

BFM2017 ``model2017-1_bfm_nomouth.h5`` / ``model2017-1_face12_nomouth.h5`` (statismo):
    shape/model/{mean (3V,), pcaBasis (3V, K), pcaVariance (K,)}, millimetres; pcaBasis has
        orthonormal columns and pcaVariance holds variances, so the N(0, 1) basis is
        ``pcaBasis * sqrt(pcaVariance)`` (eos' convert-bfm2017 script does the same)
    shape/representer/cells (3, F) 0-based triangles
    expression/model/{mean, pcaBasis, pcaVariance}: same; its mean is added to the mean
        shape; modes get ``expr_range = [-3, 3]`` (+-3 standard deviations)
    color/model/{mean, pcaBasis, pcaVariance}: RGB in [0, 1]
    metadata/landmarks/json: named 3D points, not iBUG-68 (unused)

Both: axes are the project's (y up, z out of the face, x toward the subject's left; the
landmark check refuses anything else). Neither ships iBUG-68 vertex indices, so the
``landmarks`` option is required: a file of 68 vertex indices *into this file's vertex
list* (see ``_indices`` for formats; ``.mat`` files are 1-based, e.g. face3d's
``Model_keypoints.mat``; note that 3DDFA / face3d keypoints index a *trimmed* BFM2009 of
53,215 vertices, not the 53,490 of ``01_MorphableModel.mat``). The jawline contours are
derived from the jaw landmarks.
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
from synth.morphable import MorphableModel

__all__ = ["import_bfm2009", "import_bfm2017"]

_UM_TO_MM = 1e-3
_BFM_LICENSE = "Basel Face Model licence (University of Basel; non-commercial research use)"
_LANDMARK_HINT = ("option 'landmarks' is required: a file with the 68 iBUG vertex indices of this model "
                  "(.txt/.npy/.json 0-based, .mat 1-based; see synth.importers._indices)")

_COMMON_OPTIONS = (
    ImporterOption("landmarks", Path, None, "file with the 68 iBUG landmark vertex indices (required)"),
    ImporterOption("landmarks_base", int, None, "0 or 1: first index in the landmark file (default: 1 for .mat, else 0)"),
    ImporterOption("n_id", int, None, "identity modes to import (default: all)"),
    ImporterOption("n_albedo", int, None, "albedo modes to import (default: all; 0 keeps only the mean colour)"),
)


def _landmarks(path: Path | None, num_vertices: int, triangles: np.ndarray, base: int | None, where: str) -> np.ndarray:
    if path is None:
        raise UserError(f"{where}: {_LANDMARK_HINT}")
    return load_landmark_indices(Path(path), num_vertices, triangles, base)


def _per_vertex(flat: np.ndarray, num_vertices: int, key: str, where: str) -> np.ndarray:
    """(3V,) or (3V, K) interleaved xyz -> (V, 3) or (K, V, 3) float32."""
    if flat.shape[0] != 3 * num_vertices:
        raise UserError(f"{where}: {key} has {flat.shape[0]} rows, expected 3 x {num_vertices} vertices")
    if flat.ndim == 1:
        return flat.reshape(num_vertices, 3).astype(np.float32)
    return np.ascontiguousarray(flat.reshape(num_vertices, 3, -1).transpose(2, 0, 1), dtype=np.float32)


def _scaled_modes(pc: np.ndarray, sd: np.ndarray, n: int, num_vertices: int, scale: float, key: str, where: str) -> np.ndarray:
    """First ``n`` columns of ``pc`` times their standard deviation ``sd``, times ``scale``."""
    if pc.ndim != 2 or sd.size != pc.shape[1]:
        raise UserError(f"{where}: {key} basis is {pc.shape} but has {sd.size} deviations; expected (3V, K) and K")
    if n == 0:
        return np.zeros((0, num_vertices, 3), np.float32)
    scaled = pc[:, :n].astype(np.float32, copy=False) * (sd[:n] * scale).astype(np.float32)[None, :]
    return _per_vertex(scaled, num_vertices, key, where)


# -- BFM2009 -------------------------------------------------------------------------------
def _load_mat(path: Path) -> dict[str, Any]:
    """Variables of a MATLAB file (v5 via scipy, v7.3 via h5py; arrays in MATLAB shape)."""
    import scipy.io

    try:
        return scipy.io.loadmat(str(path))
    except NotImplementedError:  # MATLAB v7.3 = HDF5; h5py sees transposed arrays
        import h5py

        try:
            with h5py.File(path, "r") as f:
                return {k: np.asarray(f[k]).T for k in f.keys() if isinstance(f[k], h5py.Dataset)}
        except OSError as e:
            raise UserError(f"{path}: cannot read MATLAB v7.3 file ({e})") from None
    except (ValueError, OSError, TypeError, EOFError) as e:
        raise UserError(f"{path}: not a readable MATLAB .mat file ({type(e).__name__}: {e})") from None


def _key(d: dict[str, Any], key: str, where: str, what: str) -> np.ndarray:
    if key not in d:
        raise UserError(f"{where}: missing key {key!r} ({what})")
    return np.asarray(d[key])


@register_importer("bfm2009", _COMMON_OPTIONS)
def import_bfm2009(src: Path, landmarks: Path | None = None, landmarks_base: int | None = None,
                   n_id: int | None = None, n_albedo: int | None = None) -> MorphableModel:
    """Import BFM2009 ``01_MorphableModel.mat`` (see the module docstring)."""
    where = str(src)
    what = "expected BFM2009 01_MorphableModel.mat"
    d = _load_mat(Path(src))
    mu = _key(d, "shapeMU", where, what).astype(np.float64).reshape(-1)
    pc = _key(d, "shapePC", where, what)
    ev = _key(d, "shapeEV", where, what).astype(np.float64).reshape(-1)
    tl = _key(d, "tl", where, what)
    if mu.size % 3:
        raise UserError(f"{where}: shapeMU has {mu.size} values, not a multiple of 3")
    nv = mu.size // 3
    if tl.ndim != 2 or tl.shape[1] != 3:
        raise UserError(f"{where}: tl must be (F, 3) 1-based triangles, got shape {tl.shape}")
    tris = tl.astype(np.int64) - 1
    if tris.min() < 0 or tris.max() >= nv:
        raise UserError(f"{where}: tl indexes vertices {tris.min() + 1}..{tris.max() + 1}, expected 1..{nv} (1-based)")
    n_id = num_modes(n_id, pc.shape[1] if pc.ndim == 2 else 0, "n_id", where)
    lmk = _landmarks(landmarks, nv, tris, landmarks_base, where)

    albedo_mean = albedo_basis = None
    if "texMU" in d:
        tex_mu = np.asarray(d["texMU"], dtype=np.float64).reshape(-1)
        albedo_mean = np.clip(_per_vertex(tex_mu, nv, "texMU", where) / 255.0, 0.0, 1.0)
        if "texPC" in d and "texEV" in d:
            tex_pc, tex_ev = np.asarray(d["texPC"]), np.asarray(d["texEV"], dtype=np.float64).reshape(-1)
            n_alb = num_modes(n_albedo, tex_pc.shape[1] if tex_pc.ndim == 2 else 0, "n_albedo", where)
            albedo_basis = _scaled_modes(tex_pc, tex_ev, n_alb, nv, 1.0 / 255.0, "texPC", where)

    return assemble_model(
        where=where,
        verts_mm=_per_vertex(mu, nv, "shapeMU", where).astype(np.float64) * _UM_TO_MM,
        triangles=tris,
        lmk68=lmk,
        id_basis=_scaled_modes(pc, ev, n_id, nv, _UM_TO_MM, "shapePC", where),
        expr_basis=np.zeros((0, nv, 3), np.float32),
        expr_range=np.zeros((0, 2), np.float32),
        albedo_mean=albedo_mean,
        albedo_basis=albedo_basis,
        meta={"name": "bfm2009", "source": f"Basel Face Model 2009 ({Path(src).name})", "license": _BFM_LICENSE,
              "importer": "bfm2009", "source_units": "micrometres (scaled 1e-3 to mm)",
              "albedo_encoding": "as stored by BFM (display RGB / 255)"},
    )


# -- BFM2017 -------------------------------------------------------------------------------
def _h5(f: Any, key: str, where: str) -> np.ndarray:
    try:
        return np.asarray(f[key])
    except KeyError:
        raise UserError(f"{where}: missing key {key!r} (expected a BFM2017 statismo .h5)") from None


def _pca_group(f: Any, group: str, nv: int, n: int | None, what: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(V, 3) mean and (n, V, 3) basis scaled by sqrt(variance) of ``group``/model."""
    mean = _h5(f, f"{group}/model/mean", where).astype(np.float64).reshape(-1)
    basis = _h5(f, f"{group}/model/pcaBasis", where)
    var = _h5(f, f"{group}/model/pcaVariance", where).astype(np.float64).reshape(-1)
    if basis.ndim != 2:
        raise UserError(f"{where}: {group}/model/pcaBasis must be (3V, K), got {basis.shape}")
    if np.any(var < 0):
        raise UserError(f"{where}: {group}/model/pcaVariance has negative values")
    n = num_modes(n, basis.shape[1], what, where)
    return (_per_vertex(mean, nv, f"{group}/model/mean", where).astype(np.float64),
            _scaled_modes(basis, np.sqrt(var), n, nv, 1.0, f"{group}/model/pcaBasis", where))


@register_importer("bfm2017", _COMMON_OPTIONS + (
    ImporterOption("n_expr", int, None, "expression modes to import (default: all)"),
))
def import_bfm2017(src: Path, landmarks: Path | None = None, landmarks_base: int | None = None,
                   n_id: int | None = None, n_albedo: int | None = None, n_expr: int | None = None) -> MorphableModel:
    """Import a BFM2017/2019 statismo ``.h5`` model (see the module docstring)."""
    import h5py

    where = str(src)
    try:
        f = h5py.File(src, "r")
    except OSError as e:
        raise UserError(f"{where}: not a readable HDF5 file ({e})") from None
    with f:
        cells = _h5(f, "shape/representer/cells", where)
        if cells.ndim != 2 or cells.shape[0] != 3:
            raise UserError(f"{where}: shape/representer/cells must be (3, F), got {cells.shape}")
        nv = _h5(f, "shape/model/mean", where).size // 3
        tris = cells.T.astype(np.int64)
        if tris.min() < 0 or tris.max() >= nv:
            raise UserError(f"{where}: shape/representer/cells index {tris.min()}..{tris.max()}, expected 0..{nv - 1}")
        lmk = _landmarks(landmarks, nv, tris, landmarks_base, where)
        mean, id_basis = _pca_group(f, "shape", nv, n_id, "n_id", where)
        if "expression" in f:
            expr_mean, expr_basis = _pca_group(f, "expression", nv, n_expr, "n_expr", where)
            mean = mean + expr_mean
        else:
            num_modes(n_expr, 0, "n_expr", where)
            expr_basis = np.zeros((0, nv, 3), np.float32)
        albedo_mean = albedo_basis = None
        if "color" in f:
            albedo_mean, albedo_basis = _pca_group(f, "color", nv, n_albedo, "n_albedo", where)
            albedo_mean = np.clip(albedo_mean, 0.0, 1.0)
    return assemble_model(
        where=where,
        verts_mm=mean,
        triangles=tris,
        lmk68=lmk,
        id_basis=id_basis,
        expr_basis=expr_basis,
        expr_range=np.tile(np.array([-3.0, 3.0], np.float32), (expr_basis.shape[0], 1)),
        albedo_mean=albedo_mean,
        albedo_basis=albedo_basis,
        meta={"name": "bfm2017", "source": f"Basel Face Model 2017 ({Path(src).name})", "license": _BFM_LICENSE,
              "importer": "bfm2017", "source_units": "mm",
              "albedo_encoding": "as stored by BFM (display RGB in [0, 1])"},
    )
