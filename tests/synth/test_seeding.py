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


def test_stage_streams_depend_only_on_seed_index_and_stage():
    from synth.seeding import StageStreams

    fresh = [g.random(4) for g in StageStreams(3)(7, 5)]
    reused = StageStreams(3)
    reused(7, 2)[0].random(100)  # a previous sample's draws leave nothing behind
    again = [g.random(4) for g in reused(7, 5)]
    np.testing.assert_array_equal(np.array(fresh), np.array(again))
    # pinned: the documented derivation from sample_seed_sequence (PCG64 state words 4k..4k+3)
    w = sample_seed_sequence(7, 5).generate_state(12, np.uint64).tolist()
    bg = np.random.PCG64(0)
    bg.state = {"bit_generator": "PCG64", "state": {"state": w[4] << 64 | w[5], "inc": (w[6] << 64 | w[7]) | 1},
                "has_uint32": 0, "uinteger": 0}
    np.testing.assert_array_equal(np.random.Generator(bg).random(4), fresh[1])
    # distinct per stage, per index and per seed
    assert len({tuple(f) for f in fresh}) == 3
    assert not np.array_equal(StageStreams(3)(7, 6)[0].random(4), fresh[0])
    assert not np.array_equal(StageStreams(3)(8, 5)[0].random(4), fresh[0])


def test_a_one_stage_stream_is_the_first_stage_of_a_longer_one():
    """``SampleMaker`` draws sample shapes from ``StageStreams(1)`` ahead of the rest."""
    from synth.seeding import StageStreams

    (alone,) = StageStreams(1)(7, 5)
    assert np.array_equal(alone.random(4), StageStreams(8)(7, 5)[0].random(4))
