"""The 68-point iBUG / Multi-PIE landmark scheme, written once as data.

Every other module derives from the table below: the flip permutation, the groups (jaw,
brows, nose, eyes, mouth) and the left/right pairs. Nothing else in the project types a
68-entry index list.

Convention
----------
- Order: iBUG 300-W (0-based). Point 0 is the jaw end on the *subject's right*, which is
  the image's left in a frontal view; point 16 is the other jaw end; 30 is the nose tip;
  36 and 45 are the outer eye corners; 48 and 54 the mouth corners.
- "right"/"left" in names are the *subject's* sides (as in anatomy), so in a frontal image
  ``r_*`` points lie on the image's left half.
- Mirror partner: the point a horizontal image flip moves this point's label to.

Symbols: K = 68 landmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "NUM_LANDMARKS",
    "LANDMARK_NAMES",
    "LANDMARK_GROUPS",
    "FLIP_PERMUTATION",
    "group_indices",
    "flip_landmarks",
]


@dataclass(frozen=True)
class _Landmark:
    name: str
    group: str
    mirror: str  # name of the mirror partner (itself on the midline)


def _jaw() -> list[_Landmark]:
    out = []
    for i in range(17):
        out.append(_Landmark(f"jaw_{i:02d}", "jaw", f"jaw_{16 - i:02d}"))
    return out


def _paired(group: str, right: list[str], left: list[str]) -> tuple[list[_Landmark], list[_Landmark]]:
    r = [_Landmark(f"r_{n}", f"{group}", f"l_{m}") for n, m in zip(right, left)]
    ll = [_Landmark(f"l_{n}", f"{group}", f"r_{m}") for n, m in zip(left, right)]
    return r, ll


def _build_table() -> tuple[_Landmark, ...]:
    table: list[_Landmark] = _jaw()  # 0-16
    # Brows 17-21 (subject's right, outer -> inner), 22-26 (left, inner -> outer).
    rb = ["brow_outer", "brow_mid_outer", "brow_mid", "brow_mid_inner", "brow_inner"]
    table += [_Landmark(n, "right_brow", "l_" + n[2:]) for n in ("r_" + x for x in rb)]
    table += [_Landmark(n, "left_brow", "r_" + n[2:]) for n in ("l_" + x for x in reversed(rb))]
    # Nose bridge 27-30 (top -> tip), nostrils 31-35 (right -> left).
    table += [_Landmark(f"nose_bridge_{i}", "nose", f"nose_bridge_{i}") for i in range(4)]
    table += [
        _Landmark("r_nostril_outer", "nose", "l_nostril_outer"),
        _Landmark("r_nostril_inner", "nose", "l_nostril_inner"),
        _Landmark("nose_base", "nose", "nose_base"),
        _Landmark("l_nostril_inner", "nose", "r_nostril_inner"),
        _Landmark("l_nostril_outer", "nose", "r_nostril_outer"),
    ]
    # Right eye 36-41: outer corner, upper outer, upper inner, inner corner, lower inner, lower outer.
    eye = ["eye_outer", "eye_upper_outer", "eye_upper_inner", "eye_inner", "eye_lower_inner", "eye_lower_outer"]
    table += [_Landmark("r_" + n, "right_eye", "l_" + n) for n in eye]
    # Left eye 42-47: inner corner, upper inner, upper outer, outer corner, lower outer, lower inner.
    eye_l = ["eye_inner", "eye_upper_inner", "eye_upper_outer", "eye_outer", "eye_lower_outer", "eye_lower_inner"]
    table += [_Landmark("l_" + n, "left_eye", "r_" + n) for n in eye_l]
    # Outer lip 48-59: right corner, going over the upper lip to the left corner, back under.
    outer = [
        ("r_mouth_corner", "l_mouth_corner"),
        ("r_upper_lip_outer", "l_upper_lip_outer"),
        ("r_upper_lip_peak", "l_upper_lip_peak"),
        ("upper_lip_top", "upper_lip_top"),
        ("l_upper_lip_peak", "r_upper_lip_peak"),
        ("l_upper_lip_outer", "r_upper_lip_outer"),
        ("l_mouth_corner", "r_mouth_corner"),
        ("l_lower_lip_outer", "r_lower_lip_outer"),
        ("l_lower_lip_mid", "r_lower_lip_mid"),
        ("lower_lip_bottom", "lower_lip_bottom"),
        ("r_lower_lip_mid", "l_lower_lip_mid"),
        ("r_lower_lip_outer", "l_lower_lip_outer"),
    ]
    table += [_Landmark(n, "outer_lip", m) for n, m in outer]
    # Inner lip 60-67: right inner corner, upper inner lip, left inner corner, lower inner lip.
    inner = [
        ("r_inner_mouth_corner", "l_inner_mouth_corner"),
        ("r_upper_lip_inner", "l_upper_lip_inner"),
        ("upper_lip_inner_mid", "upper_lip_inner_mid"),
        ("l_upper_lip_inner", "r_upper_lip_inner"),
        ("l_inner_mouth_corner", "r_inner_mouth_corner"),
        ("l_lower_lip_inner", "r_lower_lip_inner"),
        ("lower_lip_inner_mid", "lower_lip_inner_mid"),
        ("r_lower_lip_inner", "l_lower_lip_inner"),
    ]
    table += [_Landmark(n, "inner_lip", m) for n, m in inner]
    return tuple(table)


_TABLE = _build_table()
NUM_LANDMARKS = len(_TABLE)
LANDMARK_NAMES: tuple[str, ...] = tuple(lm.name for lm in _TABLE)
_INDEX = {n: i for i, n in enumerate(LANDMARK_NAMES)}

#: index -> index of its mirror partner; ``lmk_flipped = lmk[FLIP_PERMUTATION]`` after x -> W-1-x.
FLIP_PERMUTATION: np.ndarray = np.array([_INDEX[lm.mirror] for lm in _TABLE], dtype=np.int64)
FLIP_PERMUTATION.setflags(write=False)

#: group name -> landmark indices, in iBUG order.
LANDMARK_GROUPS: dict[str, tuple[int, ...]] = {}
for _i, _lm in enumerate(_TABLE):
    LANDMARK_GROUPS.setdefault(_lm.group, ())
    LANDMARK_GROUPS[_lm.group] += (_i,)


def group_indices(*groups: str) -> np.ndarray:
    """Indices (int64, ascending iBUG order) of the landmarks in the named groups.

    Groups: ``jaw, right_brow, left_brow, nose, right_eye, left_eye, outer_lip, inner_lip``.
    """
    unknown = [g for g in groups if g not in LANDMARK_GROUPS]
    if unknown:
        raise KeyError(f"unknown landmark group(s) {unknown}; expected one of {sorted(LANDMARK_GROUPS)}")
    return np.array(sorted(i for g in groups for i in LANDMARK_GROUPS[g]), dtype=np.int64)


def landmark_index(name: str) -> int:
    """iBUG index of a landmark by name (see ``LANDMARK_NAMES``)."""
    try:
        return _INDEX[name]
    except KeyError:
        raise KeyError(f"unknown landmark name {name!r}") from None


def flip_landmarks(lmk_px: np.ndarray, width: int) -> np.ndarray:
    """Mirror landmarks for a horizontally flipped image.

    Args:
        lmk_px: (..., 68, D) with D >= 2, x in column 0, pixels, origin at the centre of the
            top-left pixel (so x -> width - 1 - x under a flip).
        width: image width in pixels.

    Returns:
        (..., 68, D) landmarks of the flipped image, re-ordered so index i again means the
        iBUG point i (the subject's right stays the subject's right).
    """
    lmk = np.asarray(lmk_px)
    if lmk.shape[-2] != NUM_LANDMARKS:
        raise ValueError(f"expected (..., {NUM_LANDMARKS}, D) landmarks, got shape {lmk.shape}")
    out = lmk[..., FLIP_PERMUTATION, :].copy()
    out[..., 0] = (width - 1) - out[..., 0]
    return out
