"""Anatomical constants of the default head, written once (mm, model frame).

Model frame (see ``synth.morphable``): x toward the subject's left, y up, z out of the face,
origin between the ears at eye height. Values describe the subject's *left* side (x > 0);
the right side is the mirror image. Sources for the averages: Farkas, "Anthropometry of the
Head and Face" (1994) adult means, rounded; they are targets, not measurements of anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Anatomy", "ANATOMY"]


@dataclass(frozen=True)
class Anatomy:
    # Eyes: eyeball centre (left eye), radius, lid thickness over the globe.
    eye_center: tuple[float, float, float] = (31.5, 0.0, 66.0)
    eye_radius: float = 12.0
    lid_thickness: float = 1.7
    iris_half_angle_deg: float = 29.0  # 11.7 mm iris on a 12 mm globe
    pupil_half_angle_deg: float = 13.0
    canthal_tilt_deg: float = 5.0  # lateral canthus higher than the medial one
    # Mouth: stomion height/depth, half width at the commissures.
    mouth_y: float = -64.0
    mouth_half_width: float = 25.0
    # Jaw hinge (temporomandibular joint), left side.
    tmj: tuple[float, float, float] = (52.0, -14.0, -4.0)
    # Ear: canal entrance (tragion), left side.
    ear_canal: tuple[float, float, float] = (70.0, -12.0, -6.0)
    # Neck bottom (the cut) height.
    neck_bottom_y: float = -205.0

    @property
    def eye_center_l(self) -> np.ndarray:
        """(3,) float64 left eyeball centre."""
        return np.array(self.eye_center, dtype=np.float64)


ANATOMY = Anatomy()
