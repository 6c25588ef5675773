"""Head-pose distributions and presets (yaw, pitch, roll in degrees, project convention).

The angles are those of ``synth.geometry.euler_to_matrix`` (300W-LP / AFLW2000-3D
``Pose_Para``): yaw > 0 turns the face toward the image's left, pitch > 0 looks up,
roll > 0 is clockwise in the image. A sampled triple is turned into the rotation matrix,
which is the label; the stored Euler angles are re-derived from it (so a ``fullrange`` yaw
of 150° is stored as its canonical decomposition, see ``synth.geometry``).

Presets (``POSE_PRESETS``):

=============  ==============================  ==========  ==========
preset         yaw                             pitch       roll
=============  ==============================  ==========  ==========
extreme        uniform ±90, 50 % in |yaw|>60   ±70 tails   ±60 tails
fullrange      uniform ±180 (back of head)     ±60         ±45
300wlp-like    normal sd 40, clipped ±90       sd 12 ±45   sd 8 ±30
frontal        uniform ±20                     ±15         ±10
=============  ==============================  ==========  ==========
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from synth.errors import UserError

__all__ = ["AngleDist", "PoseConfig", "POSE_PRESETS", "sample_angle", "sample_pose"]


@dataclass(frozen=True)
class AngleDist:
    """A distribution over one angle (degrees).

    kind:
        ``uniform`` over [low, high]; ``normal`` with ``mean``/``std`` clipped to [low, high];
        ``tails``: uniform over [low, high], except that a fraction ``tail_fraction`` of
        samples is drawn uniformly from the tails |angle - mean| >= ``tail_start`` (so
        extreme angles are oversampled relative to a plain uniform).
    """

    kind: Literal["uniform", "normal", "tails"] = "uniform"
    low: float = -90.0
    high: float = 90.0
    mean: float = 0.0
    std: float = 30.0
    tail_start: float = 60.0
    tail_fraction: float = 0.5

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise UserError(f"angle distribution: low {self.low} must be <= high {self.high}")
        if self.std < 0 or not 0 <= self.tail_fraction <= 1:
            raise UserError(f"angle distribution: std must be >= 0 and tail_fraction in [0, 1], got {self.std}, {self.tail_fraction}")
        if self.kind == "tails" and not (self.low < self.mean - self.tail_start or self.mean + self.tail_start < self.high):
            raise UserError(f"angle distribution: tail_start {self.tail_start} leaves no tail inside [{self.low}, {self.high}]")


@dataclass(frozen=True)
class PoseConfig:
    """Yaw, pitch and roll distributions (degrees)."""

    yaw: AngleDist = field(default_factory=lambda: AngleDist("tails", -90, 90, tail_start=60, tail_fraction=0.5))
    pitch: AngleDist = field(default_factory=lambda: AngleDist("tails", -70, 70, tail_start=40, tail_fraction=0.3))
    roll: AngleDist = field(default_factory=lambda: AngleDist("tails", -60, 60, tail_start=35, tail_fraction=0.3))


POSE_PRESETS: dict[str, PoseConfig] = {
    "extreme": PoseConfig(),
    "fullrange": PoseConfig(
        yaw=AngleDist("uniform", -180, 180),
        pitch=AngleDist("normal", -60, 60, std=25),
        roll=AngleDist("normal", -45, 45, std=18),
    ),
    "300wlp-like": PoseConfig(
        yaw=AngleDist("normal", -90, 90, std=40),
        pitch=AngleDist("normal", -45, 45, std=12),
        roll=AngleDist("normal", -30, 30, std=8),
    ),
    "frontal": PoseConfig(
        yaw=AngleDist("uniform", -20, 20),
        pitch=AngleDist("uniform", -15, 15),
        roll=AngleDist("uniform", -10, 10),
    ),
}


def sample_angle(rng: np.random.Generator, dist: AngleDist) -> float:
    """One angle (degrees) from ``dist``; consumes a fixed number of draws per kind."""
    u = rng.random(2)
    if dist.kind == "uniform":
        return float(dist.low + u[0] * (dist.high - dist.low))
    if dist.kind == "normal":
        z = rng.standard_normal()
        return float(np.clip(dist.mean + dist.std * z, dist.low, dist.high))
    # tails
    if u[1] >= dist.tail_fraction:
        return float(dist.low + u[0] * (dist.high - dist.low))
    lo_tail = max(0.0, (dist.mean - dist.tail_start) - dist.low)  # width of [low, mean - start]
    hi_tail = max(0.0, dist.high - (dist.mean + dist.tail_start))
    x = u[0] * (lo_tail + hi_tail)
    return float(dist.low + x if x < lo_tail else dist.mean + dist.tail_start + (x - lo_tail))


def sample_pose(rng: np.random.Generator, cfg: PoseConfig) -> np.ndarray:
    """(3,) float64 (yaw, pitch, roll) in degrees."""
    return np.array([sample_angle(rng, cfg.yaw), sample_angle(rng, cfg.pitch), sample_angle(rng, cfg.roll)])
