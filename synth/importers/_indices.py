"""Reading 68-landmark vertex indices (or a barycentric embedding) from a user's file.

Sources ship their 68-point correspondences in many forms; ``load_landmark_indices``
accepts (the first matching key wins):

============  ==========================================================================
extension     content
============  ==========================================================================
.txt / .csv   68 integers separated by whitespace or commas (``#`` comments allowed)
.json         a list of 68 integers, or an object with one of the index keys below
.npy          an integer array with 68 entries, or a pickled dict (DECA's
              ``landmark_embedding.npy``; read with the restricted unpickler)
.npz / .pkl   a dict / archive with one of the index or embedding keys below
.mat          MATLAB file with one of the index keys (e.g. face3d's ``keypoints``)
============  ==========================================================================

Index keys: ``landmarks68, landmarks, indices, keypoints, kpt_ind, lmk_idx``.
Embedding keys (face index + barycentric coordinates on ``triangles``; the landmark becomes
the triangle's vertex with the largest weight): ``full_lmk_faces_idx`` +
``full_lmk_bary_coords`` (DECA) or ``lmk_faces_idx`` / ``lmk_face_idx`` + ``lmk_b_coords`` /
``lmk_bary_coords`` (FLAME). FLAME's ``flame_static_embedding.pkl`` has only the 51 inner
points (no jawline) and is refused with a hint.

Base: 1-based (MATLAB) for ``.mat`` files, 0-based otherwise, unless ``base`` says.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from synth.errors import UserError
from synth.importers._safe_pickle import as_array, loads_pickle
from synth.landmarks import NUM_LANDMARKS

__all__ = ["load_landmark_indices"]

_INDEX_KEYS = ("landmarks68", "landmarks", "indices", "keypoints", "kpt_ind", "lmk_idx")
_EMBEDDING_KEYS = (
    ("full_lmk_faces_idx", "full_lmk_bary_coords"),
    ("lmk_faces_idx", "lmk_bary_coords"),
    ("lmk_face_idx", "lmk_b_coords"),
    ("lmk_faces_idx", "lmk_b_coords"),
)


def _read_any(path: Path) -> Any:
    """File content as an array or a dict of arrays."""
    ext = path.suffix.lower()
    try:
        if ext in (".txt", ".csv", ""):
            text = re.sub(r"#[^\n]*", "", path.read_text())
            return np.array([int(float(t)) for t in re.split(r"[\s,;]+", text.strip()) if t])
        if ext == ".json":
            return json.loads(path.read_text())
        if ext == ".npy":
            with open(path, "rb") as f:
                version = np.lib.format.read_magic(f)
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                _, _, dtype = read_header(f)
                if dtype.hasobject:  # a pickled object (e.g. a dict): restricted unpickler
                    obj = loads_pickle(f, str(path))
                    return obj.item() if isinstance(obj, np.ndarray) and obj.shape == () else obj
            return np.load(path, allow_pickle=False)
        if ext == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        if ext == ".pkl":
            with open(path, "rb") as f:
                return loads_pickle(f, str(path))
        if ext == ".mat":
            import scipy.io

            return {k: v for k, v in scipy.io.loadmat(str(path)).items() if not k.startswith("__")}
    except UserError:
        raise
    except (OSError, ValueError, KeyError, NotImplementedError) as e:
        raise UserError(f"{path}: cannot read landmark indices ({type(e).__name__}: {e})") from None
    raise UserError(f"{path}: unknown landmark file type {ext!r}; use .txt, .csv, .json, .npy, .npz, .pkl or .mat")


def _from_embedding(faces: np.ndarray, bary: np.ndarray, triangles: np.ndarray | None, where: str) -> np.ndarray:
    faces = faces.reshape(-1).astype(np.int64)
    bary = bary.reshape(-1, 3)
    if faces.shape[0] != NUM_LANDMARKS:
        hint = " (FLAME's static embedding has no jawline; use DECA's landmark_embedding.npy or a 68-index file)" \
            if faces.shape[0] == 51 else ""
        raise UserError(f"{where}: the embedding has {faces.shape[0]} landmarks, need {NUM_LANDMARKS}{hint}")
    if bary.shape[0] != faces.shape[0]:
        raise UserError(f"{where}: {faces.shape[0]} landmark faces but {bary.shape[0]} barycentric rows")
    if triangles is None:
        raise UserError(f"{where}: a barycentric embedding needs the model's triangles")
    if faces.min() < 0 or faces.max() >= triangles.shape[0]:
        raise UserError(f"{where}: landmark face index outside 0..{triangles.shape[0] - 1}")
    return triangles[faces, np.argmax(bary, axis=1)]


def load_landmark_indices(path: Path, num_vertices: int, triangles: np.ndarray | None = None,
                          base: int | None = None) -> np.ndarray:
    """68 landmark vertex indices (0-based, iBUG order) from ``path``.

    Args:
        num_vertices: V of the mesh the indices refer to (for the range check).
        triangles: (F, 3) 0-based, the source's own triangles, for barycentric embeddings.
        base: 0 or 1, the first index in the file; default 1 for ``.mat``, else 0.

    Returns:
        (68,) int64 vertex indices.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise UserError(f"{where}: landmark file not found")
    content = _read_any(path)
    if isinstance(content, dict):
        found = next(((f, b) for f, b in _EMBEDDING_KEYS if f in content and b in content), None)
        if found is not None:
            return _from_embedding(as_array(content[found[0]], found[0], where),
                                   as_array(content[found[1]], found[1], where), triangles, where)
        key = next((k for k in _INDEX_KEYS if k in content), None)
        if key is None:
            raise UserError(f"{where}: no landmark key; expected one of {list(_INDEX_KEYS)} or an embedding "
                            f"{[list(k) for k in _EMBEDDING_KEYS]}, found {sorted(content)}")
        content = as_array(content[key], key, where)
    idx = np.asarray(content)
    if idx.size != NUM_LANDMARKS or not np.issubdtype(idx.dtype, np.number):
        raise UserError(f"{where}: expected {NUM_LANDMARKS} vertex indices, got {idx.size} values of type {idx.dtype}")
    if np.any(idx != np.round(idx)):
        raise UserError(f"{where}: landmark indices must be integers")
    if base is None:
        base = 1 if path.suffix.lower() == ".mat" else 0
    if base not in (0, 1):
        raise UserError(f"{where}: landmark index base must be 0 or 1, got {base}")
    idx = idx.reshape(-1).astype(np.int64) - base
    if idx.min() < 0 or idx.max() >= num_vertices:
        raise UserError(f"{where}: landmark indices span {idx.min() + base}..{idx.max() + base} ({base}-based) but the "
                        f"mesh has {num_vertices} vertices; wrong mesh, or wrong base (option landmarks_base)?")
    return idx
