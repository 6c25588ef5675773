"""The iBUG 68 table: the flip permutation and groups are derived from one table."""

import numpy as np

from synth.landmarks import FLIP_PERMUTATION, LANDMARK_GROUPS, LANDMARK_NAMES, flip_landmarks, group_indices, landmark_index


def test_flip_permutation_is_an_involution_with_the_midline_fixed():
    assert np.array_equal(FLIP_PERMUTATION[FLIP_PERMUTATION], np.arange(68))
    fixed = {LANDMARK_NAMES[i] for i in np.flatnonzero(FLIP_PERMUTATION == np.arange(68))}
    # chin, 4 bridge points, nose base, 2 + 2 outer-lip midpoints, 2 inner-lip midpoints
    assert fixed == {"jaw_08", "nose_bridge_0", "nose_bridge_1", "nose_bridge_2", "nose_bridge_3", "nose_base",
                     "upper_lip_top", "lower_lip_bottom", "upper_lip_inner_mid", "lower_lip_inner_mid"}


def test_known_ibug_pairs():
    pairs = {0: 16, 17: 26, 21: 22, 31: 35, 36: 45, 39: 42, 37: 44, 41: 46, 48: 54, 49: 53, 59: 55, 60: 64, 61: 63, 67: 65}
    for a, b in pairs.items():
        assert FLIP_PERMUTATION[a] == b and FLIP_PERMUTATION[b] == a


def test_groups_partition_the_68_points_in_ibug_ranges():
    assert sorted(i for g in LANDMARK_GROUPS.values() for i in g) == list(range(68))
    assert list(group_indices("jaw")) == list(range(17))
    assert list(group_indices("right_eye")) == list(range(36, 42))
    assert list(group_indices("inner_lip")) == list(range(60, 68))
    assert landmark_index("nose_bridge_3") == 30
    assert landmark_index("r_eye_outer") == 36 and landmark_index("l_eye_outer") == 45


def test_flipping_twice_is_the_identity_and_mirrors_x():
    rng = np.random.default_rng(0)
    lmk = rng.uniform(0, 99, size=(5, 68, 2))
    once = flip_landmarks(lmk, width=100)
    assert np.allclose(flip_landmarks(once, width=100), lmk)
    # the subject's right outer eye corner (36) takes the mirrored position of point 45
    assert np.allclose(once[:, 36, 0], 99 - lmk[:, 45, 0])
