"""Rotation matrices from/to Euler angles, axis-angle and the 6D representation; geodesic angle.

The conventions (frames, Euler order and signs, 6D layout) are stated once, in
``synth.geometry``; this module implements them. ``R`` below is always
``R_cam_from_model``: ``points_cam = points_model @ R.T + t``.

Backends: the Euler and axis-angle functions are numpy (labels, sampling, evaluation);
the 6D conversions and the geodesic angle take numpy arrays or torch tensors and return
the same type (the torch path is differentiable, for the fine-tuning pose head and loss).
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike

from synth.geometry._checks import as_float_array, check_trailing, is_torch, stack_last

__all__ = [
    "euler_to_matrix",
    "matrix_to_euler",
    "rotation_about_axis",
    "matrix_to_rotation_6d",
    "rotation_6d_to_matrix",
    "geodesic_distance_deg",
]

ArrayT = TypeVar("ArrayT")  # np.ndarray or torch.Tensor; the output has the input's type

#: Below this |cos(yaw)| (about 5.7e-7 degrees from yaw = +-90) ``matrix_to_euler`` treats the
#: matrix as gimbal-locked: roll is set to 0 and the shared pitch/roll rotation goes to pitch.
#: Above it the regular formulas lose at most ~1e-16 / 1e-8 rad, so R is always reproduced to ~1e-8.
_GIMBAL_COS_YAW = 1e-8

#: Gram-Schmidt guard: norms are clamped to at least this (degenerate 6D input -> finite output).
_NORM_EPS = 1e-12


def _wrap_half_open_deg(angle_deg: np.ndarray) -> np.ndarray:
    """Map atan2's [-180, 180] to (-180, 180] (only -180 itself moves)."""
    return np.where(angle_deg <= -180.0, angle_deg + 360.0, angle_deg)


def euler_to_matrix(yaw_deg: ArrayLike, pitch_deg: ArrayLike, roll_deg: ArrayLike) -> np.ndarray:
    """Rotation matrix ``R_cam_from_model`` from (yaw, pitch, roll) in the 300W-LP/AFLW2000-3D convention.

    ``R = Rx(pitch) @ Ry(yaw) @ Rz(roll)`` with the elementary matrices of 3DDFA's
    ``RotationMatrix.m`` (see ``synth.geometry``): yaw > 0 turns the face toward the image's
    left, pitch > 0 tilts the chin up, roll > 0 turns the head clockwise in the image.

    Args:
        yaw_deg, pitch_deg, roll_deg: degrees, scalars or arrays broadcastable to a common
            shape ``(*)``. Real labels: ``Pose_Para[:3]`` is (pitch, yaw, roll) in *radians*.

    Returns:
        R_cam_from_model: ``(*, 3, 3)`` float64, proper rotations (det +1).
    """
    if all(isinstance(a, (float, int, np.floating, np.integer)) for a in (yaw_deg, pitch_deg, roll_deg)):
        return _euler_to_matrix_scalar(float(yaw_deg), float(pitch_deg), float(roll_deg))
    yaw, pitch, roll = np.broadcast_arrays(
        np.deg2rad(as_float_array(yaw_deg, "yaw_deg")),
        np.deg2rad(as_float_array(pitch_deg, "pitch_deg")),
        np.deg2rad(as_float_array(roll_deg, "roll_deg")),
    )
    zero, one = np.zeros_like(yaw), np.ones_like(yaw)

    def mat(rows: list[list[np.ndarray]]) -> np.ndarray:
        return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)

    cp, sp = np.cos(pitch), np.sin(pitch)
    cy, sy = np.cos(yaw), np.sin(yaw)
    cr, sr = np.cos(roll), np.sin(roll)
    # Written exactly as RotationMatrix.m, each a right-hand rotation by the *negative* angle.
    rx = mat([[one, zero, zero], [zero, cp, sp], [zero, -sp, cp]])
    ry = mat([[cy, zero, -sy], [zero, one, zero], [sy, zero, cy]])
    rz = mat([[cr, sr, zero], [-sr, cr, zero], [zero, zero, one]])
    return rx @ ry @ rz


def _euler_to_matrix_scalar(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """``euler_to_matrix`` for one angle triple (the generator's hot path): the product
    ``Rx @ Ry @ Rz`` multiplied out."""
    cp, sp = math.cos(math.radians(pitch_deg)), math.sin(math.radians(pitch_deg))
    cy, sy = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    cr, sr = math.cos(math.radians(roll_deg)), math.sin(math.radians(roll_deg))
    return np.array([
        [cy * cr, cy * sr, -sy],
        [-cp * sr + sp * sy * cr, cp * cr + sp * sy * sr, sp * cy],
        [sp * sr + cp * sy * cr, -sp * cr + cp * sy * sr, cp * cy],
    ])


def matrix_to_euler(R_cam_from_model: ArrayLike) -> np.ndarray:
    """(yaw, pitch, roll) in degrees of a rotation matrix; the inverse of ``euler_to_matrix``.

    ``yaw = asin(-R[0,2])`` (computed as ``atan2(-R[0,2], hypot(R[0,0], R[0,1]))``, which is
    accurate near +-90), ``pitch = atan2(R[1,2], R[2,2])``, ``roll = atan2(R[0,1], R[0,0])``.
    Ranges: yaw in [-90, 90], pitch and roll in (-180, 180].

    Gimbal lock (yaw = +-90, ``|cos yaw| < 1e-8``): only pitch -+ roll is defined; roll is set to
    0 and pitch is ``atan2(sin(yaw) * R[1,0], R[1,1])`` (with roll = 0, ``R[1,0] = sin(pitch)
    sin(yaw)`` and ``R[1,1] = cos(pitch)``). So ``euler_to_matrix(*matrix_to_euler(R).T)``
    reproduces R everywhere, while the angles themselves are unique only away from the lock.

    A head turned beyond yaw +-90 (back of the head toward the camera) comes back as
    ``yaw' = +-180 - yaw`` with pitch and roll shifted by 180: same matrix, other angles.

    Args:
        R_cam_from_model: ``(*, 3, 3)`` rotation matrices (not re-orthonormalised).

    Returns:
        ``(*, 3)`` float64 degrees, ordered ``[yaw, pitch, roll]``.
    """
    if type(R_cam_from_model) is np.ndarray and R_cam_from_model.shape == (3, 3):
        return _matrix_to_euler_scalar(R_cam_from_model.astype(np.float64).tolist())
    R = as_float_array(R_cam_from_model, "R_cam_from_model")
    check_trailing(R, (3, 3), "R_cam_from_model")
    cos_yaw = np.hypot(R[..., 0, 0], R[..., 0, 1])  # |cos(yaw)|, >= 0 so yaw lands in [-90, 90]
    yaw = np.arctan2(-R[..., 0, 2], cos_yaw)
    pitch = np.arctan2(R[..., 1, 2], R[..., 2, 2])
    roll = np.arctan2(R[..., 0, 1], R[..., 0, 0])

    locked = cos_yaw < _GIMBAL_COS_YAW
    sin_yaw = np.where(-R[..., 0, 2] >= 0.0, 1.0, -1.0)  # exactly +-1 at the lock
    pitch = np.where(locked, np.arctan2(sin_yaw * R[..., 1, 0], R[..., 1, 1]), pitch)
    roll = np.where(locked, 0.0, roll)

    pitch_deg = _wrap_half_open_deg(np.rad2deg(pitch))
    roll_deg = _wrap_half_open_deg(np.rad2deg(roll))
    return np.stack([np.rad2deg(yaw), pitch_deg, roll_deg], axis=-1)


def _matrix_to_euler_scalar(R: list[list[float]]) -> np.ndarray:
    """``matrix_to_euler`` for one matrix, with ``math`` (same formulas, same lock rule)."""
    cos_yaw = math.hypot(R[0][0], R[0][1])
    yaw = math.atan2(-R[0][2], cos_yaw)
    if cos_yaw < _GIMBAL_COS_YAW:
        pitch = math.atan2((1.0 if -R[0][2] >= 0.0 else -1.0) * R[1][0], R[1][1])
        roll = 0.0
    else:
        pitch = math.atan2(R[1][2], R[2][2])
        roll = math.atan2(R[0][1], R[0][0])
    pitch_deg, roll_deg = math.degrees(pitch), math.degrees(roll)
    return np.array([
        math.degrees(yaw),
        pitch_deg + 360.0 if pitch_deg <= -180.0 else pitch_deg,
        roll_deg + 360.0 if roll_deg <= -180.0 else roll_deg,
    ])


def rotation_about_axis(axis: ArrayLike, angle_deg: ArrayLike) -> np.ndarray:
    """Rotation by ``angle_deg`` about ``axis`` (Rodrigues' formula), right-hand rule.

    Positive angles turn counter-clockwise when seen from the tip of ``axis`` looking back at
    the origin: ``rotation_about_axis((0, 0, 1), 90)`` maps +x to +y. (The Euler elementary
    matrices are rotations by the *negative* angle: ``euler_to_matrix(yaw, 0, 0) ==
    rotation_about_axis((0, 1, 0), -yaw)``.)

    Args:
        axis: ``(*, 3)`` direction in the frame the matrix acts in; need not be unit, must be nonzero.
        angle_deg: ``(*)`` degrees, broadcast against ``axis.shape[:-1]``.

    Returns:
        ``(*, 3, 3)`` float64 proper rotation.
    """
    axis = as_float_array(axis, "axis")
    check_trailing(axis, (3,), "axis")
    norm = np.linalg.norm(axis, axis=-1, keepdims=True)
    if np.any(norm == 0.0) or not np.all(np.isfinite(norm)):
        raise ValueError(f"axis: expected finite nonzero vectors, got norms {np.unique(norm)[:5]}")
    theta = np.deg2rad(as_float_array(angle_deg, "angle_deg"))
    shape = np.broadcast_shapes(axis.shape[:-1], theta.shape)
    k = np.broadcast_to(axis / norm, shape + (3,))
    theta = np.broadcast_to(theta, shape)[..., None, None]
    kx, ky, kz = k[..., 0], k[..., 1], k[..., 2]
    zero = np.zeros_like(kx)
    K = np.stack(
        [np.stack([zero, -kz, ky], -1), np.stack([kz, zero, -kx], -1), np.stack([-ky, kx, zero], -1)], -2
    )  # cross-product matrix: K @ v == cross(k, v)
    return np.eye(3) + np.sin(theta) * K + (1.0 - np.cos(theta)) * (K @ K)


def matrix_to_rotation_6d(R: ArrayT) -> ArrayT:
    """6D representation of Zhou et al. (CVPR 2019): the first two *columns* of R.

    Layout ``[R[0,0], R[1,0], R[2,0], R[0,1], R[1,1], R[2,1]]`` = (a1, a2). (pytorch3d's
    function of the same name takes the first two *rows*; its 6D vectors are not ours.)

    Args:
        R: ``(*, 3, 3)`` rotation matrices, np.ndarray or torch.Tensor.

    Returns:
        ``(*, 6)``, same type and dtype as ``R``.
    """
    check_trailing(R, (3, 3), "R")
    if not is_torch(R):
        R = np.asarray(R)
    return R[..., :, :2].swapaxes(-1, -2).reshape(tuple(R.shape[:-2]) + (6,))


def rotation_6d_to_matrix(rot_6d: ArrayT) -> ArrayT:
    """Rotation matrix from the 6D representation by Gram-Schmidt (Zhou et al., CVPR 2019).

    ``b1 = a1/|a1|``, ``b2 = normalize(a2 - (b1.a2) b1)``, ``b3 = b1 x b2``, ``R = [b1 b2 b3]``
    (columns). Any 6D vector with a1, a2 not parallel maps to a proper rotation; norms are
    clamped at 1e-12, so a degenerate input gives a finite (meaningless) output, never NaN.
    The torch path is differentiable (use it after the pose head's linear layer).

    Args:
        rot_6d: ``(*, 6)``, np.ndarray or torch.Tensor (e.g. ``(B, 6)`` network output).

    Returns:
        ``(*, 3, 3)`` rotation matrices, same type and dtype as the input.
    """
    check_trailing(rot_6d, (6,), "rot_6d")
    if is_torch(rot_6d):
        import torch
        import torch.nn.functional as F

        b1 = F.normalize(rot_6d[..., :3], dim=-1, eps=_NORM_EPS)
        a2 = rot_6d[..., 3:]
        b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1, eps=_NORM_EPS)
        b3 = torch.linalg.cross(b1, b2, dim=-1)
        return torch.stack((b1, b2, b3), dim=-1)

    rot_6d = np.asarray(rot_6d)
    if not np.issubdtype(rot_6d.dtype, np.floating):
        rot_6d = rot_6d.astype(np.float64)

    def normalize(v: np.ndarray) -> np.ndarray:
        return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), _NORM_EPS)

    b1 = normalize(rot_6d[..., :3])
    a2 = rot_6d[..., 3:]
    b2 = normalize(a2 - (b1 * a2).sum(-1, keepdims=True) * b1)
    return np.stack((b1, b2, np.cross(b1, b2)), axis=-1)


def geodesic_distance_deg(R_a: ArrayT, R_b: ArrayT) -> ArrayT:
    """Angle of the rotation taking ``R_a`` to ``R_b`` (``R_a.T @ R_b``), in degrees, in [0, 180].

    Computed as ``atan2(|w|, trace(M) - 1)`` with ``M = R_a.T @ R_b`` and ``w`` its skew part
    (``|w| = 2 sin(theta)``, ``trace - 1 = 2 cos(theta)``): accurate near 0 and 180 degrees,
    where ``arccos((trace - 1) / 2)`` loses half the digits, and it needs no clamping for
    slightly non-orthonormal inputs. As a torch loss its gradient is finite everywhere,
    including ``R_a == R_b`` (|w| below ``eps(dtype)`` counts as 0 with zero gradient; the
    error this adds is below 1e-5 degrees in float32).

    Args:
        R_a, R_b: ``(*, 3, 3)`` rotations (broadcastable), both np.ndarray or both torch.Tensor.

    Returns:
        ``(*)`` degrees, same type as the inputs.
    """
    check_trailing(R_a, (3, 3), "R_a")
    check_trailing(R_b, (3, 3), "R_b")
    torch_in = is_torch(R_a), is_torch(R_b)
    if torch_in[0] != torch_in[1]:
        raise TypeError(f"R_a, R_b: expected both numpy or both torch, got {type(R_a).__name__}, {type(R_b).__name__}")
    if not torch_in[0]:
        R_a, R_b = np.asarray(R_a, dtype=np.float64), np.asarray(R_b, dtype=np.float64)
    M = R_a.swapaxes(-1, -2) @ R_b
    w = stack_last([M[..., 2, 1] - M[..., 1, 2], M[..., 0, 2] - M[..., 2, 0], M[..., 1, 0] - M[..., 0, 1]])
    two_cos = M[..., 0, 0] + M[..., 1, 1] + M[..., 2, 2] - 1.0
    if not torch_in[0]:
        return np.rad2deg(np.arctan2(np.linalg.norm(w, axis=-1), two_cos))

    import torch

    sq = (w * w).sum(-1)
    nonzero = sq > torch.finfo(sq.dtype).eps ** 2
    two_sin = torch.where(nonzero, torch.sqrt(torch.where(nonzero, sq, torch.ones_like(sq))), torch.zeros_like(sq))
    return torch.rad2deg(torch.atan2(two_sin, two_cos))
