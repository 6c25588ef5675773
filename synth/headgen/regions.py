"""Appearance regions of the default head (``synth.morphable.REGION_NAMES``).

Parts carry their own labels (eyeballs, teeth, ears); here the skin is split into scalp
(hair), brows, neck, nostrils, eyelids, lips and the mouth interior. Tests use the *subject's
left* geometry (``|x|``), so labels are mirror-symmetric.

Hairline and neck line are functions of the azimuth ``theta = atan2(|x|, z)`` (0 in front,
90 deg at the ear, 180 deg at the back), in mm of height y.
"""

from __future__ import annotations

import numpy as np

from synth.headgen import eyes as EY
from synth.headgen import mouth as MO
from synth.morphable import region_id

__all__ = ["assign_regions", "brow_band", "hairline_y"]

# (theta deg, y mm): hairline above which the skin is scalp; dips for the sideburn in front
# of the ear, arcs over the ear and falls to the nape.
_HAIRLINE = np.array([
    [0.0, 64.0], [25.0, 61.0], [45.0, 52.0], [60.0, 40.0], [72.0, 30.0], [80.0, 12.0],
    [86.0, -6.0], [91.0, -8.0], [96.0, 16.0], [110.0, 24.0], [122.0, 0.0], [140.0, -50.0],
    [160.0, -72.0], [180.0, -78.0],
])
# (theta deg, y mm): below it the skin is neck.
_NECKLINE = np.array([[0.0, -121.0], [35.0, -116.0], [70.0, -104.0], [100.0, -92.0], [180.0, -84.0]])


def hairline_y(theta_deg: np.ndarray) -> np.ndarray:
    """Height (mm) of the hairline at azimuth ``theta_deg`` (N,)."""
    return np.interp(theta_deg, _HAIRLINE[:, 0], _HAIRLINE[:, 1])


def brow_band(x_abs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eyebrow centre height and half height (mm) at |x| (N,); half height 0 outside it.

    The brow runs from |x| = 13 mm (head) over a peak two thirds out to |x| = 57 mm (tail).
    """
    t = np.clip((x_abs - 13.0) / 44.0, 0.0, 1.0)
    centre = 19.5 + 14.0 * t - 11.0 * t ** 2.2
    half = np.where((x_abs >= 13.0) & (x_abs <= 57.0), 4.6 - 1.8 * t - 1.6 * t ** 3, 0.0)
    return centre, half


def assign_regions(verts: np.ndarray, region: np.ndarray, groups: dict[str, np.ndarray],
                   eye_patch: EY.EyePatch, mouth_patch: MO.MouthPatch) -> np.ndarray:
    """(V,) uint8 regions: ``region`` (the parts' own labels) refined on the skin."""
    out = region.copy()
    skin = np.concatenate([groups["chart"], groups["mouth_patch"], groups["eye_patch_l"], groups["eye_patch_r"]])
    p = verts[skin]
    ax, y, z = np.abs(p[:, 0]), p[:, 1], p[:, 2]
    theta = np.degrees(np.arctan2(ax, z))
    lab = np.full(len(skin), region_id("skin"), np.uint8)
    lab[y < np.interp(theta, _NECKLINE[:, 0], _NECKLINE[:, 1])] = region_id("neck")
    lab[y > hairline_y(theta)] = region_id("scalp")
    centre, half = brow_band(ax)
    lab[(np.abs(y - centre) < half) & (z > 40.0)] = region_id("brows")
    nostril = ((ax - 6.0) / 3.6) ** 2 + ((y + 43.3) / 2.4) ** 2 + ((z - 97.0) / 6.0) ** 2 < 1.0
    lab[nostril] = region_id("nostrils")
    out[skin] = lab
    # lids: the sac, margin, edge and the lid rings over the tarsus
    for side in ("l", "r"):
        g = groups[f"eye_patch_{side}"]
        m = eye_patch.margin
        sp = np.maximum(eye_patch.spoke, 0)
        limit = np.where(m.upper[sp], 5, np.where(m.lower[sp], 4, 3))
        out[g[eye_patch.ring <= limit]] = region_id("eyelids")
    g = groups["mouth_patch"]
    out[g[(mouth_patch.ring >= 0) & (mouth_patch.ring < MO.K_BORDER)]] = region_id("lips")
    out[g[mouth_patch.ring < 0]] = region_id("mouth_interior")
    return out
