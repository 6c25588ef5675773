"""A growing triangle mesh with mirror twins, region labels and named vertex groups.

Symbols: V vertices, F triangles. Vertices are (V, 3) float64 mm in the model frame.
"""

from __future__ import annotations

import numpy as np

from synth.morphable import region_id

__all__ = ["MeshBuilder", "mirror_x", "orient_like"]


def mirror_x(p: np.ndarray) -> np.ndarray:
    """Points (N, 3) mirrored through the plane x = 0."""
    return np.asarray(p, dtype=np.float64) * np.array([-1.0, 1.0, 1.0])


def _edge_dirs(tris: np.ndarray) -> dict[tuple[int, int], int]:
    out = {}
    for k in range(3):
        a, b = tris[:, k], tris[:, (k + 1) % 3]
        for u, v in zip(a.tolist(), b.tolist()):
            out[(u, v)] = 1
    return out


def orient_like(tris: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``tris`` (F, 3), flipped as a whole if needed so that edges shared with the
    ``reference`` triangles run in the opposite direction (a consistently oriented union).

    Raises ``RuntimeError`` if the two share no edge.
    """
    ref = _edge_dirs(reference)
    same = opp = 0
    for k in range(3):
        for u, v in zip(tris[:, k].tolist(), tris[:, (k + 1) % 3].tolist()):
            if (u, v) in ref:
                same += 1
            elif (v, u) in ref:
                opp += 1
    if same == 0 and opp == 0:
        raise RuntimeError("orient_like: the patch shares no edge with the reference")
    return tris[:, ::-1].copy() if same > opp else tris


class MeshBuilder:
    """Accumulates parts; ``twin[i]`` is the mirror vertex of vertex ``i``."""

    def __init__(self) -> None:
        self._verts: list[np.ndarray] = []
        self._tris: list[np.ndarray] = []
        self._region: list[np.ndarray] = []
        self._twin: list[np.ndarray] = []
        self.groups: dict[str, np.ndarray] = {}
        self.n = 0

    def add(self, name: str, verts: np.ndarray, tris: np.ndarray, region: str | np.ndarray,
            twin_local: np.ndarray | None) -> np.ndarray:
        """Append a self-symmetric part (``twin_local`` indexes its own vertices) or, with
        ``twin_local=None``, a part whose twins are set later by ``set_twins``.

        ``tris`` index the part's own vertices, or global vertices when negative
        (``-1 - g`` refers to global vertex ``g``). Returns the part's global indices.
        """
        verts = np.asarray(verts, dtype=np.float64)
        idx = np.arange(self.n, self.n + len(verts))
        t = np.asarray(tris, dtype=np.int64)
        t = np.where(t >= 0, t + self.n, -1 - t)
        reg = np.full(len(verts), region_id(region), np.uint8) if isinstance(region, str) else np.asarray(region, np.uint8)
        twin = idx[twin_local] if twin_local is not None else np.full(len(verts), -1, np.int64)
        self._verts.append(verts)
        self._tris.append(t)
        self._region.append(reg)
        self._twin.append(twin)
        self.groups[name] = idx
        self.n += len(verts)
        return idx

    def add_mirrored(self, name: str, verts_left: np.ndarray, tris: np.ndarray,
                     region: str | np.ndarray, tris_right: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Append a left part and its mirror image (``name + '_l'`` / ``'_r'``), twins set.

        ``tris_right`` (same local/global convention as ``add``) defaults to ``tris`` with
        the winding reversed (a mirror reverses orientation).
        """
        left = self.add(name + "_l", verts_left, tris, region, None)
        tr = tris[:, ::-1] if tris_right is None else tris_right
        right = self.add(name + "_r", mirror_x(verts_left), tr, region, None)
        self.set_twins(left, right)
        return left, right

    def set_twins(self, a: np.ndarray, b: np.ndarray) -> None:
        twin = np.concatenate(self._twin)
        twin[a], twin[b] = b, a
        self._twin = [twin]

    def set_region(self, idx: np.ndarray, region: str) -> None:
        reg = np.concatenate(self._region)
        reg[idx] = region_id(region)
        self._region = [reg]

    @property
    def verts(self) -> np.ndarray:
        return np.concatenate(self._verts)

    @property
    def triangles(self) -> np.ndarray:
        return np.concatenate(self._tris)

    @property
    def region(self) -> np.ndarray:
        return np.concatenate(self._region)

    @property
    def twin(self) -> np.ndarray:
        return np.concatenate(self._twin)
