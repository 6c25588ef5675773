"""The project's 3DMM file format (``.npz``, versioned) with save, load and validation.

Format ``facesynth-3dmm`` version 1: a NumPy ``.npz`` archive (read with
``allow_pickle=False``, so a file cannot execute code) holding

==================  ==============  ===========================================
key                 shape / dtype   meaning (see ``synth.morphable``)
==================  ==============  ===========================================
format              () str          ``"facesynth-3dmm"``
format_version      () int64        1
mean_shape          (V, 3) f32      mm, model frame
triangles           (F, 3) i32      0-based
id_basis            (Ki, V, 3) f32  per N(0, 1) weight
expr_basis          (Ke, V, 3) f32  per unit weight
expr_range          (Ke, 2) f32     valid weight range
landmarks68         (68,) i32       iBUG order
contour_right/left  (C,) i32        jawline candidates
vertex_region       (V,) u8         index into ``REGION_NAMES``
region_names        (R,) str        must equal ``REGION_NAMES`` of this version
id_names            (Ki,) str
expr_names          (Ke,) str
meta_keys/values    (M,) str        metadata (name, source, license, ...)
uv                  (V, 2) f32      optional
albedo_mean         (V, 3) f32      optional
albedo_basis        (Ka, V, 3) f32  optional
==================  ==============  ===========================================

Bases may be stored as float16 to keep files small (``save_model(..., half=True)``); they
are converted to float32 on load.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from synth.errors import UserError
from synth.landmarks import NUM_LANDMARKS
from synth.morphable import REGION_NAMES, MorphableModel

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "save_model", "load_model", "validate_model", "model_checksum"]

FORMAT_NAME = "facesynth-3dmm"
FORMAT_VERSION = 1

_REQUIRED = (
    "format", "format_version", "mean_shape", "triangles", "id_basis", "expr_basis", "expr_range",
    "landmarks68", "contour_right", "contour_left", "vertex_region", "region_names",
)
_OPTIONAL_ARRAYS = ("uv", "albedo_mean", "albedo_basis")


class ModelValidationError(UserError):
    """A 3DMM (in memory or on disk) breaks the format's rules."""


def _check(cond: bool, where: str, msg: str) -> None:
    if not cond:
        raise ModelValidationError(f"{where}: {msg}")


def validate_model(m: MorphableModel, where: str = "model") -> None:
    """Raise ``ModelValidationError`` naming the field and what was expected.

    Checks shapes against each other, index ranges, finiteness and region labels.
    """
    v = m.mean_shape
    _check(v.ndim == 2 and v.shape[1] == 3 and v.shape[0] >= 3, where, f"mean_shape must be (V, 3) with V >= 3, got {v.shape}")
    nv = v.shape[0]
    t = m.triangles
    _check(t.ndim == 2 and t.shape[1] == 3 and t.shape[0] >= 1, where, f"triangles must be (F, 3), got {t.shape}")
    _check(t.min() >= 0 and t.max() < nv, where, f"triangles index vertices 0..{nv - 1}, got range {t.min()}..{t.max()}")
    for key in ("id_basis", "expr_basis"):
        b = getattr(m, key)
        _check(b.ndim == 3 and b.shape[1:] == (nv, 3), where, f"{key} must be (K, {nv}, 3), got {b.shape}")
    ke = m.expr_basis.shape[0]
    _check(m.expr_range.shape == (ke, 2), where, f"expr_range must be ({ke}, 2), got {m.expr_range.shape}")
    if ke:
        _check(bool(np.all(m.expr_range[:, 0] <= m.expr_range[:, 1])), where, "expr_range rows must be [min, max] with min <= max")
    _check(m.landmarks68.shape == (NUM_LANDMARKS,), where, f"landmarks68 must be ({NUM_LANDMARKS},), got {m.landmarks68.shape}")
    for key in ("landmarks68", "contour_right", "contour_left"):
        idx = getattr(m, key)
        _check(idx.ndim == 1, where, f"{key} must be 1-D, got {idx.shape}")
        if idx.size:
            _check(idx.min() >= 0 and idx.max() < nv, where, f"{key} indexes vertices 0..{nv - 1}, got range {idx.min()}..{idx.max()}")
    _check(m.vertex_region.shape == (nv,), where, f"vertex_region must be ({nv},), got {m.vertex_region.shape}")
    _check(int(m.vertex_region.max(initial=0)) < len(REGION_NAMES), where,
           f"vertex_region values must be < {len(REGION_NAMES)} (REGION_NAMES), got {int(m.vertex_region.max())}")
    _check(len(m.id_names) == m.id_basis.shape[0], where, f"id_names has {len(m.id_names)} names for {m.id_basis.shape[0]} modes")
    _check(len(m.expr_names) == ke, where, f"expr_names has {len(m.expr_names)} names for {ke} modes")
    if m.uv is not None:
        _check(m.uv.shape == (nv, 2), where, f"uv must be ({nv}, 2), got {m.uv.shape}")
    if m.albedo_mean is not None:
        _check(m.albedo_mean.shape == (nv, 3), where, f"albedo_mean must be ({nv}, 3), got {m.albedo_mean.shape}")
    if m.albedo_basis is not None:
        _check(m.albedo_mean is not None, where, "albedo_basis needs albedo_mean")
        _check(m.albedo_basis.ndim == 3 and m.albedo_basis.shape[1:] == (nv, 3), where,
               f"albedo_basis must be (Ka, {nv}, 3), got {m.albedo_basis.shape}")
    for key in ("mean_shape", "id_basis", "expr_basis", "expr_range", "uv", "albedo_mean", "albedo_basis"):
        a = getattr(m, key)
        if a is not None and a.size:
            _check(bool(np.isfinite(a).all()), where, f"{key} contains NaN or Inf")


def save_model(m: MorphableModel, path: str | os.PathLike, half: bool = False) -> Path:
    """Write ``m`` to ``path`` (``.npz``) atomically (temp file, then rename).

    Args:
        half: store bases as float16 (about half the size; ~1e-3 relative precision).
    """
    path = Path(path)
    basis_dtype = np.float16 if half else np.float32
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT_NAME),
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "mean_shape": m.mean_shape,
        "triangles": m.triangles,
        "id_basis": m.id_basis.astype(basis_dtype),
        "expr_basis": m.expr_basis.astype(basis_dtype),
        "expr_range": m.expr_range,
        "landmarks68": m.landmarks68,
        "contour_right": m.contour_right,
        "contour_left": m.contour_left,
        "vertex_region": m.vertex_region,
        "region_names": np.array(REGION_NAMES),
        "id_names": np.array(m.id_names, dtype=str),
        "expr_names": np.array(m.expr_names, dtype=str),
        "meta_keys": np.array(list(m.meta.keys()), dtype=str),
        "meta_values": np.array(list(m.meta.values()), dtype=str),
    }
    for key in _OPTIONAL_ARRAYS:
        a = getattr(m, key)
        if a is not None:
            arrays[key] = a.astype(basis_dtype) if key == "albedo_basis" else a
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_model(path: str | os.PathLike) -> MorphableModel:
    """Read and validate a ``facesynth-3dmm`` file; errors name the file and the field."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise ModelValidationError(f"{where}: no such file (expected a facesynth-3dmm .npz)")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise ModelValidationError(f"{where}: not a readable .npz archive ({e})") from None
    missing = [k for k in _REQUIRED if k not in data]
    _check(not missing, where, f"missing keys {missing}")
    _check(str(data["format"]) == FORMAT_NAME, where, f"format is {str(data['format'])!r}, expected {FORMAT_NAME!r}")
    version = int(data["format_version"])
    _check(version == FORMAT_VERSION, where, f"format_version {version} is not supported (this facesynth reads {FORMAT_VERSION})")
    regions = tuple(str(s) for s in data["region_names"])
    _check(regions == REGION_NAMES, where, f"region_names {regions} differ from this version's {REGION_NAMES}")
    meta = dict(zip((str(k) for k in data.get("meta_keys", [])), (str(v) for v in data.get("meta_values", []))))
    try:
        return MorphableModel(
            mean_shape=data["mean_shape"],
            triangles=data["triangles"],
            id_basis=data["id_basis"],
            expr_basis=data["expr_basis"],
            expr_range=data["expr_range"],
            landmarks68=data["landmarks68"],
            contour_right=data["contour_right"],
            contour_left=data["contour_left"],
            vertex_region=data["vertex_region"],
            id_names=tuple(str(s) for s in data.get("id_names", [])),
            expr_names=tuple(str(s) for s in data.get("expr_names", [])),
            uv=data.get("uv"),
            albedo_mean=data.get("albedo_mean"),
            albedo_basis=data.get("albedo_basis"),
            meta=meta,
        )
    except ModelValidationError as e:
        raise ModelValidationError(f"{where}: {str(e).removeprefix('model: ')}") from None


def model_checksum(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a model file's bytes, recorded in every dataset made from it."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
