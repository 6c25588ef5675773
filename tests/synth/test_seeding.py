"""Per-sample seeding: the stream depends only on (global seed, index) and matches SeedSequence.spawn."""

from __future__ import annotations

import numpy as np
import pytest

from synth.errors import UserError
from synth.seeding import MAX_SEED, sample_rng, sample_seed_sequence


def test_matches_numpy_spawn():
    children = np.random.SeedSequence(1234).spawn(5)
    for i, child in enumerate(children):
        assert np.array_equal(sample_seed_sequence(1234, i).generate_state(4), child.generate_state(4))


def test_stream_depends_only_on_seed_and_index():
    a = sample_rng(7, 3).random(8)
    assert np.array_equal(a, sample_rng(7, 3).random(8))
    assert not np.array_equal(a, sample_rng(7, 4).random(8))
    assert not np.array_equal(a, sample_rng(8, 3).random(8))
    assert isinstance(sample_rng(7, 3).bit_generator, np.random.PCG64)


@pytest.mark.parametrize("seed", [-1, MAX_SEED + 1, 1.5, "3", True])
def test_bad_seed_is_user_error(seed):
    with pytest.raises(UserError, match="seed"):
        sample_rng(seed, 0)


@pytest.mark.parametrize("index", [-1, 2.0])
def test_bad_index(index):
    with pytest.raises(ValueError, match="index"):
        sample_rng(0, index)
