"""Mapping chart directions to skin points, and the wanted vertex spacing on the skin.

Symbols: N points or directions. Directions are (N, 3) unit vectors from the origin; skin
points are (N, 3) float64 mm in the model frame.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from synth.headgen import sdf as S
from synth.headgen.fields import smoothstep
from synth.headgen.shape import head_sdf

__all__ = ["cast_dirs", "approx_surface", "vertex_spacing"]


def cast_dirs(dirs: np.ndarray) -> np.ndarray:
    """Exact skin points along origin rays: (N, 3) unit directions -> (N, 3) mm."""
    dirs = np.asarray(dirs, dtype=np.float64)
    t = S.ray_cast(head_sdf, np.zeros(3), dirs)
    if np.isnan(t).any():
        raise RuntimeError(f"{int(np.isnan(t).sum())} chart rays missed the head surface")
    return dirs * t[:, None]


@lru_cache(maxsize=1)
def _radius_table() -> RegularGridInterpolator:
    """Skin distance on a 1.5-degree (azimuth, elevation) grid over the left half."""
    az = np.radians(np.arange(-3.0, 183.0 + 1e-9, 1.5))
    el = np.radians(np.arange(-90.0, 90.0 + 1e-9, 1.5))
    A, E = np.meshgrid(az, el, indexing="ij")
    d = np.stack([np.sin(A) * np.cos(E), np.sin(E), np.cos(A) * np.cos(E)], -1).reshape(-1, 3)
    t = S.ray_cast(head_sdf, np.zeros(3), d).reshape(A.shape)
    return RegularGridInterpolator((az, el), t, bounds_error=False, fill_value=None)


def approx_surface(dirs: np.ndarray) -> np.ndarray:
    """Approximate skin points (bilinear in the radius table), (N, 3) -> (N, 3) mm."""
    dirs = np.asarray(dirs, dtype=np.float64)
    az = np.arctan2(np.abs(dirs[:, 0]), dirs[:, 2])
    el = np.arcsin(np.clip(dirs[:, 1], -1.0, 1.0))
    t = _radius_table()(np.column_stack([az, el]))
    return dirs * t[:, None]


def vertex_spacing(p: np.ndarray) -> np.ndarray:
    """Wanted distance between neighbouring skin vertices (mm) at skin points (N, 3).

    About 2.4 mm on the face (1.5 on the brows, 1.7 on the nose, 1.1 at the nostrils),
    5.2 mm on the scalp, back and neck.
    """
    x, y, z = np.abs(p[:, 0]), p[:, 1], p[:, 2]
    face = smoothstep(z, 5.0, 40.0) * smoothstep(y, -150.0, -120.0) * smoothstep(y, 70.0, 45.0)
    h = 5.2 - (5.2 - 2.4) * face
    nose = smoothstep(z, 70.0, 82.0) * smoothstep(x, 24.0, 14.0) * smoothstep(y, -52.0, -44.0) * smoothstep(y, 14.0, 6.0)
    brow = smoothstep(z, 50.0, 65.0) * smoothstep(x, 8.0, 14.0) * smoothstep(x, 62.0, 55.0) * smoothstep(y, 8.0, 14.0) * smoothstep(y, 36.0, 30.0)
    nostril = smoothstep(z, 84.0, 90.0) * smoothstep(x, 16.0, 13.0) * smoothstep(y, -50.0, -46.0) * smoothstep(y, -35.0, -39.0)
    return h - (2.4 - 1.7) * nose - (2.4 - 1.5) * brow - (1.7 - 1.1) * nostril
