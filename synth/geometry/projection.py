"""Camera pose, rigid transforms, perspective and weak-perspective projection to pixels.

The conventions (OpenGL-style camera looking down -z, pixel (0, 0) at the *centre* of the
top-left pixel, v down) are stated once, in ``synth.geometry``; this module implements them.

Backends: everything except ``intrinsics_from_fov`` and ``look_at`` is plain arithmetic and
indexing, so it takes numpy arrays or torch tensors (differentiably) and returns the input's
type. Symbols: N points, ``*`` leading batch dimensions (broadcast).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike

from synth.geometry._checks import as_array, as_float_array, check_trailing, stack_last

__all__ = [
    "OPENCV_FROM_OPENGL",
    "intrinsics_from_fov",
    "look_at",
    "transform_points",
    "project_points",
    "unproject_points",
    "weak_perspective_project",
]

ArrayT = TypeVar("ArrayT")  # np.ndarray or torch.Tensor; the output has the input's type

#: ``(3, 3)`` change of camera axes to OpenCV's (x right, y down, z forward): for OpenCV
#: functions (solvePnP, projectPoints) use ``R_cv = OPENCV_FROM_OPENGL @ R``,
#: ``t_cv = OPENCV_FROM_OPENGL @ t`` with the same K (OpenCV also puts pixel centres on integers).
OPENCV_FROM_OPENGL: np.ndarray = np.diag([1.0, -1.0, -1.0])
OPENCV_FROM_OPENGL.setflags(write=False)


def intrinsics_from_fov(fov_deg: float, width: int, height: int, *, fov_axis: str = "x") -> np.ndarray:
    """Pinhole intrinsics K for a field of view, square pixels, principal point at the image centre.

    The field of view spans the full image extent: ``width`` pixels, i.e. from the left edge
    of pixel 0 (u = -0.5) to the right edge of pixel W-1 (u = W - 0.5), so
    ``f = (W / 2) / tan(fov / 2)``; ``cx = (W - 1) / 2``, ``cy = (H - 1) / 2``.

    Args:
        fov_deg: field of view in degrees, in (0, 180).
        width, height: image size in pixels (W, H).
        fov_axis: ``"x"`` if ``fov_deg`` spans the width, ``"y"`` if it spans the height.

    Returns:
        K: ``(3, 3)`` float64 ``[[f, 0, cx], [0, f, cy], [0, 0, 1]]``, f in pixels.
    """
    if not 0.0 < float(fov_deg) < 180.0:
        raise ValueError(f"fov_deg: expected a value in (0, 180) degrees, got {fov_deg}")
    if int(width) != width or int(height) != height or width < 1 or height < 1:
        raise ValueError(f"width, height: expected positive integers (pixels), got {width}, {height}")
    if fov_axis not in ("x", "y"):
        raise ValueError(f"fov_axis: expected 'x' or 'y', got {fov_axis!r}")
    extent_px = width if fov_axis == "x" else height
    focal_px = 0.5 * extent_px / np.tan(np.deg2rad(fov_deg) / 2.0)
    return np.array([[focal_px, 0.0, (width - 1) / 2.0], [0.0, focal_px, (height - 1) / 2.0], [0.0, 0.0, 1.0]])


def look_at(eye: ArrayLike, target: ArrayLike, up: ArrayLike = (0.0, 1.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """Pose of a camera at ``eye`` looking at ``target``: ``points_cam = points @ R.T + t``.

    The camera looks down its -z axis, so its z axis (in the input frame) is
    ``normalize(eye - target)``, x is ``normalize(up x z)`` (image right) and ``y = z x x``
    (image up, as close to ``up`` as possible). ``look_at((0, 0, d), (0, 0, 0))`` gives the
    frontal pose ``R = I, t = (0, 0, -d)``.

    Args:
        eye, target: ``(*, 3)`` positions (e.g. mm, model frame), broadcastable.
        up: ``(*, 3)`` world "up" direction; must not be parallel to ``eye - target``.

    Returns:
        R_cam_from_model: ``(*, 3, 3)`` float64; t_cam: ``(*, 3)`` float64, same unit as ``eye``.
    """
    eye, target, up = (as_float_array(a, n) for a, n in ((eye, "eye"), (target, "target"), (up, "up")))
    for a, n in ((eye, "eye"), (target, "target"), (up, "up")):
        check_trailing(a, (3,), n)
    back = eye - target
    right = np.cross(up, back)
    back_n, right_n = np.linalg.norm(back, axis=-1, keepdims=True), np.linalg.norm(right, axis=-1, keepdims=True)
    if np.any(back_n == 0.0) or np.any(right_n <= 1e-12 * back_n * np.linalg.norm(up, axis=-1, keepdims=True)):
        raise ValueError("look_at: expected eye != target and up not parallel to the viewing direction")
    z = back / back_n
    x = right / right_n
    y = np.cross(z, x)
    R = np.stack([x, y, z], axis=-2)  # rows: camera axes expressed in the input frame
    t = -(R @ eye[..., None])[..., 0]
    return R, t


def transform_points(points: ArrayT, R: ArrayT, t: ArrayT) -> ArrayT:
    """Rigid transform ``points @ R.T + t``, e.g. ``points_cam`` from ``points_model``.

    Args:
        points: ``(*, N, 3)``; R: ``(*, 3, 3)``; t: ``(*, 3)`` in the units of ``points``.
            Leading dims broadcast; numpy or torch (all the same type).

    Returns:
        ``(*, N, 3)`` transformed points, input type.
    """
    points, R, t = as_array(points), as_array(R), as_array(t)
    check_trailing(points, ("N", 3), "points")
    check_trailing(R, (3, 3), "R")
    check_trailing(t, (3,), "t")
    return points @ R.swapaxes(-1, -2) + t[..., None, :]


def project_points(points_cam: ArrayT, K: ArrayT) -> ArrayT:
    """Perspective projection of camera-frame points to pixels.

    ``u = cx + fx * x / (-z)``, ``v = cy - fy * y / (-z)`` (camera looks down -z, v points
    down). Only points with z < 0 are in front of the camera; others give meaningless
    (possibly infinite) pixels, so mask them with ``points_cam[..., 2] < 0``.

    Args:
        points_cam: ``(*, N, 3)`` camera frame (any length unit).
        K: ``(*, 3, 3)`` intrinsics ``[[fx, 0, cx], [0, fy, cy], [0, 0, 1]]`` (pixels; skew ignored).

    Returns:
        uv_px: ``(*, N, 2)`` pixels, origin at the centre of the top-left pixel; input type.
    """
    if type(points_cam) is np.ndarray and type(K) is np.ndarray and points_cam.ndim == 2 and K.shape == (3, 3):
        if points_cam.shape[1] != 3:
            raise ValueError(f"points_cam: expected shape (*, N, 3), got {points_cam.shape}")
        # hot path of the generator (one (N, 3) array, one K): the same arithmetic written
        # into one (N, 2) buffer, without the batch broadcasting and the stack
        dtype = np.result_type(points_cam.dtype, K.dtype)
        uv = np.empty((points_cam.shape[0], 2), dtype=dtype)
        depth = -points_cam[:, 2]
        np.multiply(points_cam[:, 0], K[0, 0].astype(dtype), out=uv[:, 0])
        np.multiply(points_cam[:, 1], K[1, 1].astype(dtype), out=uv[:, 1])
        uv[:, 0] /= depth
        uv[:, 1] /= depth
        uv[:, 0] += K[0, 2]
        np.subtract(K[1, 2].astype(dtype), uv[:, 1], out=uv[:, 1])
        return uv
    points_cam, K = as_array(points_cam), as_array(K)
    check_trailing(points_cam, ("N", 3), "points_cam")
    check_trailing(K, (3, 3), "K")
    fx, fy = K[..., 0, 0, None], K[..., 1, 1, None]
    cx, cy = K[..., 0, 2, None], K[..., 1, 2, None]
    depth = -points_cam[..., 2]
    return stack_last([cx + fx * points_cam[..., 0] / depth, cy - fy * points_cam[..., 1] / depth])


def unproject_points(uv_px: ArrayT, depth: ArrayT, K: ArrayT) -> ArrayT:
    """Camera-frame points from pixels and depths; the inverse of ``project_points``.

    Args:
        uv_px: ``(*, N, 2)`` pixels, origin at the centre of the top-left pixel.
        depth: ``(*, N)`` distance in front of the camera along the optical axis, ``-z`` (> 0).
        K: ``(*, 3, 3)`` intrinsics as in ``project_points``.

    Returns:
        points_cam: ``(*, N, 3)`` with ``z = -depth``, in the unit of ``depth``; input type.
    """
    uv_px, depth, K = as_array(uv_px), as_array(depth), as_array(K)
    check_trailing(uv_px, ("N", 2), "uv_px")
    check_trailing(K, (3, 3), "K")
    if tuple(depth.shape) != tuple(uv_px.shape[:-1]):
        raise ValueError(
            f"depth: expected shape {tuple(uv_px.shape[:-1])} (uv_px without its last axis), got {tuple(depth.shape)}"
        )
    fx, fy = K[..., 0, 0, None], K[..., 1, 1, None]
    cx, cy = K[..., 0, 2, None], K[..., 1, 2, None]
    x = (uv_px[..., 0] - cx) / fx * depth
    y = -(uv_px[..., 1] - cy) / fy * depth
    return stack_last([x, y, -depth])


def weak_perspective_project(points_model: ArrayT, R: ArrayT, scale: ArrayT, t_px: ArrayT) -> ArrayT:
    """Weak-perspective (scaled orthographic) projection to pixels, as in 3DDFA.

    ``u = s * (R p)_x + tx``, ``v = -s * (R p)_y + ty``: rotate, drop z, scale to pixels and
    flip y because v points down. ``(tx, ty)`` is the pixel where the model origin lands.
    A frontal face (R = I) keeps its layout: the subject's left (+x) to the image right,
    the top of the head (+y) up.

    Args:
        points_model: ``(*, N, 3)`` model frame (mm).
        R: ``(*, 3, 3)`` R_cam_from_model.
        scale: ``(*)`` pixels per model unit (float or array/tensor).
        t_px: ``(*, 2)`` pixels.

    Returns:
        uv_px: ``(*, N, 2)`` pixels, origin at the centre of the top-left pixel; input type.
    """
    points_model, R, scale, t_px = as_array(points_model), as_array(R), as_array(scale), as_array(t_px)
    check_trailing(points_model, ("N", 3), "points_model")
    check_trailing(R, (3, 3), "R")
    check_trailing(t_px, (2,), "t_px")
    rotated = points_model @ R.swapaxes(-1, -2)
    s = scale[..., None]
    return stack_last([s * rotated[..., 0] + t_px[..., 0, None], -s * rotated[..., 1] + t_px[..., 1, None]])
