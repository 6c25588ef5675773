"""MixingSampler: realised ratio, determinism, DDP partition, yaw balance, weights."""

from __future__ import annotations

import numpy as np
import pytest
from torch.utils.data import ConcatDataset, DataLoader, Dataset

from synth.data.mixing import MixingSampler, largest_remainder_counts, yaw_balanced_probs


class Range(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i


SIZES = [500, 120]  # synthetic, real
NAMES = ["synthetic", "real"]


def _source_of(idx):
    return np.where(np.asarray(idx) < SIZES[0], 0, 1)


def test_ratio_is_realised():
    concat = ConcatDataset([Range(n) for n in SIZES])
    s = MixingSampler(concat, NAMES, {"synthetic": 0.7, "real": 0.3}, epoch_length=1000, seed=1)
    idx = list(s)
    assert len(idx) == len(s) == 1000
    assert np.mean(_source_of(idx) == 0) == pytest.approx(0.7, abs=1e-9)  # exact over the epoch
    # a DataLoader reads through it
    assert len(list(DataLoader(concat, sampler=s, batch_size=100))) == 10
    # each rank's share is close too
    for r in range(4):
        part = list(MixingSampler(SIZES, NAMES, {"synthetic": 0.7, "real": 0.3}, 1000, seed=1, num_replicas=4, rank=r))
        assert abs(np.mean(_source_of(part) == 0) - 0.7) < 0.08


def test_uniform_source_walks_permutations():
    s = MixingSampler(SIZES, NAMES, {"synthetic": 1.0}, epoch_length=1000, seed=0)
    idx = np.array(list(s))
    assert (idx < 500).all()
    counts = np.bincount(idx, minlength=500)
    assert counts.min() == counts.max() == 2  # every sample twice, none three times


def test_deterministic_per_seed_and_epoch():
    def make(seed=0):
        return MixingSampler(SIZES, NAMES, {"synthetic": 0.5, "real": 0.5}, 300, seed=seed)

    a, b = make(), make()
    assert list(a) == list(b)
    a.set_epoch(1)
    assert list(a) != list(b)
    b.set_epoch(1)
    assert list(a) == list(b)
    assert list(make(seed=1)) != list(make())


@pytest.mark.parametrize("replicas,length", [(1, 100), (2, 100), (3, 100), (4, 7)])
def test_ranks_are_disjoint_and_complete(replicas, length):
    def sampler(rank):
        s = MixingSampler(SIZES, NAMES, {"synthetic": 0.6, "real": 0.4}, length, seed=5,
                          num_replicas=replicas, rank=rank)
        s.set_epoch(3)
        return s

    full = sampler(0).epoch_stream()
    parts = [list(sampler(r)) for r in range(replicas)]
    assert len({len(p) for p in parts}) == 1 and len(parts[0]) == -(-length // replicas)
    positions = [np.arange(r, len(full), replicas) for r in range(replicas)]
    for r in range(replicas):
        np.testing.assert_array_equal(parts[r], full[positions[r]])
    merged = np.sort(np.concatenate(positions))
    np.testing.assert_array_equal(merged, np.arange(len(full)))  # disjoint and complete


def test_yaw_balance():
    rng = np.random.default_rng(0)
    # a frontal-heavy real set: 80 % |yaw| < 30, few profiles, some unknown
    yaw = np.concatenate([rng.uniform(-30, 30, 400), rng.uniform(30, 60, 60), rng.uniform(60, 90, 30),
                          rng.uniform(90, 120, 10), np.full(100, np.nan)])
    p = yaw_balanced_probs(yaw)
    assert p.sum() == pytest.approx(1)
    known = np.isfinite(yaw)
    assert p[~known].sum() == pytest.approx(100 / 600)  # unknown yaw keeps its share
    bins = np.digitize(np.abs(yaw[known]), [30, 60, 90])
    per_bin = np.bincount(bins, weights=p[known])
    np.testing.assert_allclose(per_bin, per_bin[0])  # equal per bin
    s = MixingSampler([len(yaw)], ["real"], {"real": 1}, 20000, yaw_deg={"real": yaw}, seed=0)
    draws = yaw[np.array(list(s))]
    frac = np.bincount(np.digitize(np.abs(draws[np.isfinite(draws)]), [30, 60, 90]), minlength=4) / np.isfinite(draws).sum()
    np.testing.assert_allclose(frac, 0.25, atol=0.02)


def test_weights_and_errors():
    w = np.zeros(SIZES[1])
    w[:10] = 1
    s = MixingSampler(SIZES, NAMES, {"real": 1}, 200, weights={"real": w})
    assert set(np.array(list(s)) - SIZES[0]) <= set(range(10))
    np.testing.assert_array_equal(largest_remainder_counts(np.array([1, 1, 1]), 10), [4, 3, 3])
    with pytest.raises(ValueError, match="unknown source"):
        MixingSampler(SIZES, NAMES, {"nope": 1}, 10)
    with pytest.raises(ValueError, match="rank"):
        MixingSampler(SIZES, NAMES, {"real": 1}, 10, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="no samples"):
        MixingSampler([0, 5], NAMES, {"synthetic": 1}, 10)
