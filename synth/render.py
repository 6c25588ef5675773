"""Render a posed mesh: camera, supersampled rasterization, colour and coverage.

This is the small interface every renderer backend sits behind: camera-frame vertices,
triangles and per-vertex colours in; an anti-aliased image, its coverage (alpha) and the
supersampled raster (triangle id, depth, barycentrics, for labels and masks) out. The
rasterizer itself lives in ``synth.raster``.

Symbols: V vertices, F triangles, H x W output size, S supersampling factor.
Frames and pixels follow ``synth.geometry``: camera frame OpenGL-style (x right, y up,
z toward the viewer, camera looks down -z), pixel centres at integer coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from synth.geometry import project_points
from synth.raster import RasterOutput, rasterize_color

__all__ = ["Camera", "Render", "render_mesh", "to_screen"]


@dataclass(frozen=True)
class Camera:
    """A pinhole camera at the origin of the camera frame.

    Attributes:
        K: (3, 3) intrinsics in output pixels (fx, fy, cx, cy; see ``synth.geometry``).
        height, width: output image size in pixels.
    """

    K: np.ndarray
    height: int
    width: int

    def __post_init__(self) -> None:
        K = np.asarray(self.K, dtype=np.float64)
        if K.shape != (3, 3):
            raise ValueError(f"K must be (3, 3), got {K.shape}")
        object.__setattr__(self, "K", K)

    def supersampled(self, factor: int) -> "Camera":
        """The same camera at ``factor`` times the resolution.

        Pixel centres map as u_hi = (u + 0.5) * factor - 0.5, so fx, fy scale by ``factor``
        and cx, cy by the same affine map.
        """
        K = self.K.copy()
        K[0, 0] *= factor
        K[1, 1] *= factor
        K[0, 2] = (K[0, 2] + 0.5) * factor - 0.5
        K[1, 2] = (K[1, 2] + 0.5) * factor - 0.5
        return Camera(K, self.height * factor, self.width * factor)


@dataclass(frozen=True)
class Render:
    """Output of ``render_mesh``.

    Attributes:
        rgb: (H, W, 3) float32 colour premultiplied by coverage (black where empty), in the
            units of the vertex colours.
        alpha: (H, W) float32 coverage in [0, 1] (fraction of the S x S subpixels hit).
        raster: ``RasterOutput`` at the supersampled size (H*S, W*S).
        camera_hi: the supersampled camera that produced ``raster``.
        factor: S.
    """

    rgb: np.ndarray
    alpha: np.ndarray
    raster: RasterOutput
    camera_hi: Camera
    factor: int


def to_screen(verts_cam: np.ndarray, camera: Camera) -> np.ndarray:
    """(V, 3) camera-frame points (mm) -> (V, 3) screen (u px, v px, depth mm = -z)."""
    verts_cam = np.asarray(verts_cam)
    uv = project_points(verts_cam, camera.K)
    scr = np.empty((uv.shape[0], 3), dtype=uv.dtype)
    scr[:, :2] = uv
    np.negative(verts_cam[:, 2], out=scr[:, 2])
    return scr


@numba.njit(cache=True, nogil=True)
def _downsample_kernel(color_hi, tri_id, f, rgb, alpha):  # pragma: no cover - numba
    """Box filter f x f blocks: ``rgb`` = mean colour (empty sub-pixels hold 0), ``alpha`` =
    covered fraction."""
    h, w, c = rgb.shape
    inv = numba.float32(1.0 / (f * f))
    for i in range(h):
        for j in range(w):
            n = 0
            if c == 3:  # the usual case, in registers
                s0, s1, s2 = numba.float32(0.0), numba.float32(0.0), numba.float32(0.0)
                for a in range(i * f, i * f + f):
                    for b in range(j * f, j * f + f):
                        n += tri_id[a, b] >= 0
                        s0 += color_hi[a, b, 0]
                        s1 += color_hi[a, b, 1]
                        s2 += color_hi[a, b, 2]
                rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2] = s0 * inv, s1 * inv, s2 * inv
            else:
                for k in range(c):
                    rgb[i, j, k] = 0.0
                for a in range(i * f, i * f + f):
                    for b in range(j * f, j * f + f):
                        n += tri_id[a, b] >= 0
                        for k in range(c):
                            rgb[i, j, k] += color_hi[a, b, k]
                for k in range(c):
                    rgb[i, j, k] *= inv
            alpha[i, j] = n * inv


def render_mesh(
    verts_cam: np.ndarray,
    triangles: np.ndarray,
    vertex_color: np.ndarray,
    camera: Camera,
    supersample: int = 2,
    cull_backfaces: bool = False,
) -> Render:
    """Rasterize a mesh with per-vertex colours (Gouraud), anti-aliased by supersampling.

    Args:
        verts_cam: (V, 3) float, mm, camera frame (in front of the camera: z < 0).
        triangles: (F, 3) int, CCW seen from outside.
        vertex_color: (V, C) float per-vertex colour (already shaded), any units.
        camera: output camera.
        supersample: S >= 1; the raster is S times larger and box-filtered down.
        cull_backfaces: see ``synth.raster.rasterize``.

    Returns:
        ``Render``.
    """
    if supersample < 1:
        raise ValueError(f"supersample must be >= 1, got {supersample}")
    cam_hi = camera.supersampled(supersample)
    raster, color_hi = rasterize_color(
        to_screen(verts_cam, cam_hi), triangles, vertex_color, cam_hi.height, cam_hi.width, cull_backfaces
    )
    rgb = np.empty((camera.height, camera.width, color_hi.shape[2]), np.float32)
    alpha = np.empty((camera.height, camera.width), np.float32)
    _downsample_kernel(color_hi, raster.tri_id, supersample, rgb, alpha)
    return Render(rgb=rgb, alpha=alpha, raster=raster, camera_hi=cam_hi, factor=supersample)
