"""Rotations, projections and similarity alignment: the one home of the geometric conventions.

Every stage (synthesis, real-data readers, fine-tuning, evaluation) uses these functions;
no other module writes a rotation from angles or a projection formula. Submodules:
``rotations`` (Euler, axis-angle, 6D, geodesic), ``projection`` (camera pose, pinhole,
weak perspective), ``alignment`` (Umeyama); everything is re-exported here.

Symbols: N points, B batch, ``*`` any leading batch dimensions, D = 2 or 3.

Conventions
-----------
Model frame (head)
    Millimetres. x toward the subject's left (the image's right in a frontal view), y up,
    z out of the face toward a frontal camera. Right-handed. (As in ``synth.morphable``.)
Camera frame
    OpenGL style, the same axes as the model frame at identity pose: x right, y up, z toward
    the viewer; the camera sits at the origin and looks down -z. A pose is
    ``(R_cam_from_model, t_cam)`` with ``points_cam = points_model @ R.T + t``
    (``= R @ p + t`` per point). A frontal face at distance d: ``R = I``, ``t = (0, 0, -d)``.
    OpenCV's camera (y down, z forward) is ``OPENCV_FROM_OPENGL = diag(1, -1, -1)`` away.
Image
    Pixel coordinates (u, v), u right, v down, origin at the *centre* of the top-left pixel:
    pixel i covers [i - 0.5, i + 0.5], the image spans [-0.5, W - 0.5] x [-0.5, H - 0.5] and its
    centre is ((W - 1) / 2, (H - 1) / 2) (as OpenCV; AFLW2000-3D's 0-based ``pt3d_68`` too).
Perspective projection
    ``K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]`` (pixels), ``u = cx + fx * x / (-z)``,
    ``v = cy - fy * y / (-z)``; ``unproject_points`` inverts it given depth = -z > 0.
    ``intrinsics_from_fov`` puts the principal point at the image centre.
Weak perspective (3DDFA)
    ``u = s * (R p)_x + tx``, ``v = -s * (R p)_y + ty``: z dropped, y flipped because v is down.
Euler angles
    Degrees, always ordered (yaw, pitch, roll) in this API. The matrix is exactly the
    300W-LP / AFLW2000-3D ``Pose_Para`` convention (3DDFA's ``RotationMatrix.m``), so real
    labels need no conversion beyond radians -> degrees and reordering (``Pose_Para[:3]`` is
    pitch, yaw, roll)::

        R = Rx(pitch) @ Ry(yaw) @ Rz(roll)          (c = cos, s = sin)
        Rx = [[1, 0, 0], [0, cp, sp], [0, -sp, cp]]
        Ry = [[cy, 0, -sy], [0, 1, 0], [sy, 0, cy]]
        Rz = [[cr, sr, 0], [-sr, cr, 0], [0, 0, 1]]

    R is ``R_cam_from_model``. Each factor is a right-hand rotation by the *negative* angle
    (``Ry(yaw) = rotation_about_axis((0, 1, 0), -yaw)``). Signs, pinned by tests that project
    points (and on real AFLW2000-3D labels):

    - yaw > 0 turns the face toward the image's left: the nose tip (0, 0, 1) goes to camera
      x < 0 (the subject's right);
    - pitch > 0: the face looks up (chin up, the nose tip goes to +y);
    - roll > 0: clockwise in the image (the top of the head (0, 1, 0) moves to +x).

    Inverse: ``yaw = asin(-R[0,2])``, ``pitch = atan2(R[1,2], R[2,2])``,
    ``roll = atan2(R[0,1], R[0,0])``; yaw in [-90, 90], pitch and roll in (-180, 180]. At
    gimbal lock (yaw = +-90) roll is set to 0 and pitch absorbs the rest, so
    euler -> matrix -> euler -> matrix always reproduces R. Yaw beyond +-90 (the back of the
    head) comes back as ``yaw' = +-180 - yaw`` with pitch and roll shifted by 180: the
    matrix (or its 6D form) is the unambiguous label; the angles are for reporting.
6D rotation (Zhou et al., CVPR 2019, "On the Continuity of Rotation Representations in
Neural Networks")
    The first two *columns* of R, ``(a1, a2) -> (*, 6)``; back by Gram-Schmidt
    ``b1 = a1/|a1|``, ``b2 = normalize(a2 - (b1.a2) b1)``, ``b3 = b1 x b2``, ``R = [b1 b2 b3]``.
    (pytorch3d uses the first two *rows* under the same function name.)
Geodesic distance
    The angle of ``R_a.T @ R_b`` in degrees, via atan2 (stable near 0 and 180).

Backends
--------
numpy everywhere; the 6D conversions, the geodesic angle and the point transforms and
projections also take torch tensors (returned as tensors, differentiable). torch is imported
lazily, only when a tensor comes in: ``import synth.geometry`` does not import it.

Alignment
---------
``umeyama`` (Umeyama 1991, similarity with a proper rotation, D = 2 or 3, optional weights) is
written here because it is a ~20-line, well-known algorithm and scikit-image is not a
dependency; ``trimesh.registration.procrustes`` is 3D-only and unweighted (tests compare).
"""

from synth.geometry.alignment import umeyama
from synth.geometry.projection import (
    OPENCV_FROM_OPENGL,
    intrinsics_from_fov,
    look_at,
    project_points,
    transform_points,
    unproject_points,
    weak_perspective_project,
)
from synth.geometry.rotations import (
    euler_to_matrix,
    geodesic_distance_deg,
    matrix_to_euler,
    matrix_to_rotation_6d,
    rotation_6d_to_matrix,
    rotation_about_axis,
)

__all__ = [
    "OPENCV_FROM_OPENGL",
    "euler_to_matrix",
    "geodesic_distance_deg",
    "intrinsics_from_fov",
    "look_at",
    "matrix_to_euler",
    "matrix_to_rotation_6d",
    "project_points",
    "rotation_6d_to_matrix",
    "rotation_about_axis",
    "transform_points",
    "umeyama",
    "unproject_points",
    "weak_perspective_project",
]
