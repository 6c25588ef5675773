"""Least-squares similarity (or rigid) alignment of point sets: Umeyama (1991).

S. Umeyama, "Least-squares estimation of transformation parameters between two point
patterns", IEEE TPAMI 13(4), 1991. Written here rather than imported: it is ~20 lines,
scikit-image (``skimage.transform.SimilarityTransform``) is not a dependency, and
``trimesh.registration.procrustes`` is 3D-only, unweighted and returns a 4x4 matrix that
folds the scale into R. The tests check this implementation against trimesh in 3D.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from synth.geometry._checks import as_float_array

__all__ = ["umeyama"]


def umeyama(
    src: ArrayLike, dst: ArrayLike, with_scale: bool = True, weights: ArrayLike | None = None
) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity ``dst ~ s * R @ src + t`` minimising the (weighted) sum of squared residuals.

    ``R`` is a proper rotation (det +1), never a reflection. Typical uses: align a template
    (model frame, mm) to 2D landmarks (D = 2, pixels) for a crop, or two 3D shapes (D = 3).

    Args:
        src: ``(N, D)`` float points, D = 2 or 3, N >= D, not all coincident.
        dst: ``(N, D)`` corresponding points, in any unit (s carries the unit change).
        with_scale: estimate s; if False, s = 1 (rigid alignment).
        weights: optional ``(N,)`` non-negative weights with a positive sum (e.g. 0 for
            invisible landmarks). Default: all 1.

    Returns:
        s: float scale (dst units per src unit); R: ``(D, D)`` float64; t: ``(D,)`` float64, so
        that ``dst ~ src @ (s * R).T + t``.
    """
    src, dst = as_float_array(src, "src"), as_float_array(dst, "dst")
    if src.ndim != 2 or src.shape[1] not in (2, 3) or src.shape != dst.shape:
        raise ValueError(f"src, dst: expected equal shapes (N, D) with D in (2, 3), got {src.shape} and {dst.shape}")
    n, d = src.shape
    if n < d:
        raise ValueError(f"src, dst: expected at least D = {d} points, got N = {n}")
    if weights is None:
        w = np.ones(n)
    else:
        w = as_float_array(weights, "weights")
        if w.shape != (n,) or np.any(w < 0) or not w.sum() > 0:
            raise ValueError(f"weights: expected shape ({n},), >= 0, positive sum; got shape {w.shape}, sum {w.sum()}")
    w = w / w.sum()

    mu_src, mu_dst = w @ src, w @ dst
    src_c, dst_c = src - mu_src, dst - mu_dst
    var_src = w @ (src_c**2).sum(axis=1)
    if not var_src > 0:
        raise ValueError("src: expected points that are not all coincident (zero variance)")
    cov = (dst_c * w[:, None]).T @ src_c  # (D, D) = sum_i w_i dst_i src_i^T
    U, sv, Vt = np.linalg.svd(cov)
    sign = np.ones(d)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:  # would be a reflection: flip the weakest axis
        sign[-1] = -1.0
    R = (U * sign) @ Vt
    s = float((sv * sign).sum() / var_src) if with_scale else 1.0
    t = mu_dst - s * R @ mu_src
    return s, R, t
