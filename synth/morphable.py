"""The 3D morphable model (3DMM) type: shape = mean + identity + expression.

Symbols: V vertices, F triangles, Ki identity modes, Ke expression modes, Ka albedo modes.

Convention (model frame, shared by every model the project holds)
------------------------------------------------------------------
- Units: millimetres.
- Axes: x toward the subject's left (the image's right in a frontal view), y up, z out of
  the face (toward a frontal camera). Right-handed.
- Origin: roughly the centre of the head (between the ears, at eye height); importers move
  each source model there (see ``synth.importers``), so a rotation about the origin turns the
  head about its own centre.
- Triangles: 0-based vertex indices, counter-clockwise when seen from outside the surface
  (so the face normal ``cross(v1 - v0, v2 - v0)`` points outward).
- Identity basis is scaled so identity weights are standard normal N(0, 1).
- Expression basis: deltas per unit weight; weights are valid in ``expr_range[k]``
  (e.g. [0, 1] for blendshapes, [-3, 3] for PCA expression modes).

Region labels (``vertex_region``) index ``REGION_NAMES``; the appearance sampler colours by them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

import numba
import numpy as np

from synth.landmarks import NUM_LANDMARKS
from synth.threads import one_blas_thread

__all__ = ["MorphableModel", "REGION_NAMES", "region_id"]

#: Per-vertex appearance regions. The integer stored per vertex is the index in this tuple.
REGION_NAMES: tuple[str, ...] = (
    "skin",  # face skin
    "scalp",  # skull top / back (hair goes here)
    "neck",
    "ears",
    "lips",
    "brows",
    "eyelids",
    "sclera",  # eye white
    "iris",  # iris and pupil (the pupil is the iris centre)
    "mouth_interior",
    "teeth",
    "nostrils",
    "other",  # parts with no appearance of their own (e.g. eye blend / occlusion shells)
)


def region_id(name: str) -> int:
    """Integer region label of a region name (see ``REGION_NAMES``)."""
    try:
        return REGION_NAMES.index(name)
    except ValueError:
        raise KeyError(f"unknown region {name!r}; expected one of {REGION_NAMES}") from None


@dataclass(frozen=True, eq=False)
class MorphableModel:
    """A linear 3DMM with landmarks, regions and metadata (arrays are read-only views).

    Attributes:
        mean_shape: (V, 3) float32, mm, model frame.
        triangles: (F, 3) int32, 0-based, counter-clockwise from outside.
        id_basis: (Ki, V, 3) float32, mm per unit of a N(0, 1) identity weight.
        expr_basis: (Ke, V, 3) float32, mm per unit expression weight.
        expr_range: (Ke, 2) float32, valid [min, max] of each expression weight.
        landmarks68: (68,) int32 vertex indices in iBUG order (see ``synth.landmarks``).
        contour_right: (Cr,) int32 jawline candidate vertices on the subject's right,
            ordered from the ear (top) to the chin; the "2D contour" landmark convention picks
            jaw points 0-7 from them along the visible silhouette.
        contour_left: (Cl,) int32, same for the subject's left, from the chin up to the ear.
        vertex_region: (V,) uint8 index into ``REGION_NAMES``.
        id_names / expr_names: names of the modes.
        uv: optional (V, 2) float32 texture coordinates in [0, 1].
        albedo_mean: optional (V, 3) float32 linear RGB in [0, 1].
        albedo_basis: optional (Ka, V, 3) float32 per N(0, 1) albedo weight.
        meta: name, source, license and any other strings.
    """

    mean_shape: np.ndarray
    triangles: np.ndarray
    id_basis: np.ndarray
    expr_basis: np.ndarray
    expr_range: np.ndarray
    landmarks68: np.ndarray
    contour_right: np.ndarray
    contour_left: np.ndarray
    vertex_region: np.ndarray
    id_names: tuple[str, ...] = ()
    expr_names: tuple[str, ...] = ()
    uv: np.ndarray | None = None
    albedo_mean: np.ndarray | None = None
    albedo_basis: np.ndarray | None = None
    meta: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Normalise dtypes and names once, then freeze the arrays.
        conv = {
            "mean_shape": np.float32, "id_basis": np.float32, "expr_basis": np.float32,
            "expr_range": np.float32, "triangles": np.int32, "landmarks68": np.int32,
            "contour_right": np.int32, "contour_left": np.int32, "vertex_region": np.uint8,
            "uv": np.float32, "albedo_mean": np.float32, "albedo_basis": np.float32,
        }
        for key, dtype in conv.items():
            value = getattr(self, key)
            if value is None:
                continue
            arr = np.ascontiguousarray(np.asarray(value), dtype=dtype)
            arr.setflags(write=False)
            object.__setattr__(self, key, arr)
        ke, ki = self.expr_basis.shape[0], self.id_basis.shape[0]
        object.__setattr__(self, "id_names", tuple(self.id_names) or tuple(f"id_{i:03d}" for i in range(ki)))
        object.__setattr__(self, "expr_names", tuple(self.expr_names) or tuple(f"expr_{i:03d}" for i in range(ke)))
        object.__setattr__(self, "meta", dict(self.meta))
        from synth.model_io import validate_model  # local import: model_io imports this module

        validate_model(self)

    # -- sizes -----------------------------------------------------------------------------
    @property
    def num_vertices(self) -> int:
        return int(self.mean_shape.shape[0])

    @property
    def num_triangles(self) -> int:
        return int(self.triangles.shape[0])

    @property
    def num_id(self) -> int:
        return int(self.id_basis.shape[0])

    @property
    def num_expr(self) -> int:
        return int(self.expr_basis.shape[0])

    @property
    def name(self) -> str:
        return self.meta.get("name", "unnamed")

    # -- evaluation ------------------------------------------------------------------------
    def shape(self, id_weights: np.ndarray | None = None, expr_weights: np.ndarray | None = None) -> np.ndarray:
        """Vertices for the given weights.

        Args:
            id_weights: (Ki',) with Ki' <= Ki, N(0, 1) units; missing trailing modes are 0.
            expr_weights: (Ke',) with Ke' <= Ke, in ``expr_range`` units; missing are 0.

        Returns:
            (V, 3) float32 vertices, mm, model frame.
        """
        verts = self.mean_shape.astype(np.float32, copy=True).reshape(-1)
        for w, basis, what in ((id_weights, self.id_basis, "id_weights"), (expr_weights, self.expr_basis, "expr_weights")):
            if w is None:
                continue
            w = np.ascontiguousarray(w, dtype=np.float32).reshape(-1)
            if w.shape[0] > basis.shape[0]:
                raise ValueError(f"{what}: got {w.shape[0]} weights, model has {basis.shape[0]} modes")
            if w.shape[0]:
                # single-threaded blend (a BLAS gemv would spawn threads that fight the
                # generator's worker processes); zero weights are skipped (sparse expressions)
                _blend_kernel(verts, basis.reshape(basis.shape[0], -1), w)
        return verts.reshape(-1, 3)

    def shape_batch(self, id_weights: np.ndarray, expr_weights: np.ndarray | None = None) -> np.ndarray:
        """Vertices for B weight rows at once.

        The identity part is one GEMM, which streams the identity basis once for all B rows
        where ``shape`` streams it once per call: for a 13k-vertex head it is 16 MB, so
        ``shape`` costs ~1 ms and is memory-bound, while B = 16 rows cost ~0.25 ms a row.
        BLAS runs on one thread (the generator's parallelism is its worker processes).
        Expression weights are sparse, so they are added per row as in ``shape``.

        Rows equal ``shape``'s result to float32 rounding (the sums run in another order).
        Bytes are reproducible for the same B rows in the same order; a row may round
        differently in another batch (BLAS picks its kernels by shape), so callers that
        need identical bytes batch fixed groups (``synth.sample.BLEND_GROUP``).

        Args:
            id_weights: (B, Ki') with Ki' <= Ki, N(0, 1) units; missing trailing modes are 0.
            expr_weights: (B, Ke') with Ke' <= Ke, in ``expr_range`` units; or None.

        Returns:
            (B, V, 3) float32 vertices, mm, model frame.
        """
        b = np.shape(id_weights)[0]
        w_id = _weights(id_weights, self.id_basis, b, "id_weights")
        if w_id.shape[1]:
            with one_blas_thread():
                out = w_id @ self.id_basis[: w_id.shape[1]].reshape(w_id.shape[1], -1)
            out += self.mean_shape.reshape(-1)
        else:
            out = np.repeat(self.mean_shape.reshape(1, -1), b, axis=0)
        if expr_weights is not None:  # sparse (a few of ~50 modes): per row, zeros skipped
            w_e = _weights(expr_weights, self.expr_basis, b, "expr_weights")
            if w_e.shape[1]:
                basis = self.expr_basis.reshape(self.num_expr, -1)
                for r in range(b):
                    _blend_kernel(out[r], basis, w_e[r])
        return out.reshape(b, -1, 3)

    def landmarks(self, verts: np.ndarray | None = None) -> np.ndarray:
        """(68, 3) landmark positions (mm, model frame) of ``verts`` (default: the mean)."""
        v = self.mean_shape if verts is None else verts
        return np.asarray(v)[self.landmarks68]

    def expr_index(self, name: str) -> int:
        """Index of an expression mode by name."""
        try:
            return self.expr_names.index(name)
        except ValueError:
            raise KeyError(f"model {self.name!r} has no expression {name!r}; it has {list(self.expr_names)}") from None

    def region_mask(self, *names: str) -> np.ndarray:
        """(V,) bool: vertices whose region is one of ``names``."""
        return np.isin(self.vertex_region, [region_id(n) for n in names])

    def with_meta(self, **meta: str) -> "MorphableModel":
        """A copy with metadata entries added or replaced."""
        return replace(self, meta={**self.meta, **meta})

    def summary(self) -> str:
        """Multi-line human-readable summary."""
        lo, hi = self.mean_shape.min(0), self.mean_shape.max(0)
        regions = np.bincount(self.vertex_region, minlength=len(REGION_NAMES))
        lines = [
            f"model      {self.name}",
            f"source     {self.meta.get('source', '?')}",
            f"license    {self.meta.get('license', '?')}",
            f"vertices   {self.num_vertices:,}   triangles {self.num_triangles:,}",
            f"extent mm  x {lo[0]:.1f}..{hi[0]:.1f}  y {lo[1]:.1f}..{hi[1]:.1f}  z {lo[2]:.1f}..{hi[2]:.1f}",
            f"identity   {self.num_id} modes (N(0,1) weights)",
            f"expression {self.num_expr} modes: {', '.join(self.expr_names[:12])}{' ...' if self.num_expr > 12 else ''}",
            f"landmarks  {NUM_LANDMARKS} (iBUG), contour candidates R {len(self.contour_right)} / L {len(self.contour_left)}",
            "regions    " + ", ".join(f"{n} {c}" for n, c in zip(REGION_NAMES, regions) if c),
            f"uv         {'yes' if self.uv is not None else 'no'}   albedo basis "
            + (f"{self.albedo_basis.shape[0]} modes" if self.albedo_basis is not None else "no"),
        ]
        return "\n".join(lines)


def _weights(w: np.ndarray, basis: np.ndarray, rows: int, what: str) -> np.ndarray:
    """(rows, K') float32 weights checked against a (K, ...) basis (K' <= K)."""
    w = np.ascontiguousarray(w, dtype=np.float32)
    if w.ndim != 2 or w.shape[0] != rows or w.shape[1] > basis.shape[0]:
        raise ValueError(f"{what}: expected ({rows}, <= {basis.shape[0]}) weights, got {w.shape}")
    return w


@numba.njit(cache=True, nogil=True)
def _blend_kernel(out, basis, w):  # pragma: no cover - numba
    """out += sum_k w[k] basis[k] over the non-zero weights, four modes per pass over out
    (four basis streams, a quarter of the read-modify-writes of out)."""
    nz = np.flatnonzero(w)
    n, m = out.shape[0], nz.shape[0]
    i = 0
    while i + 4 <= m:
        k0, k1, k2, k3 = nz[i], nz[i + 1], nz[i + 2], nz[i + 3]
        w0, w1, w2, w3 = w[k0], w[k1], w[k2], w[k3]
        r0, r1, r2, r3 = basis[k0], basis[k1], basis[k2], basis[k3]
        for j in range(n):
            out[j] += w0 * r0[j] + w1 * r1[j] + w2 * r2[j] + w3 * r3[j]
        i += 4
    while i < m:
        wk, r = w[nz[i]], basis[nz[i]]
        for j in range(n):
            out[j] += wk * r[j]
        i += 1
