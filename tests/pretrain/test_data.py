"""The two-view stream: deterministic in (seed, step), sharded so R ranks = one process with R micro-batches."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from pretrain.data import DataSource, SampleStream, MicroBatchSampler, batch_counts, build_loader
from pretrain.views import ViewConfig, make_view, random_resized_crop
from synth.errors import UserError


def test_batch_counts_split_by_weight():
    assert batch_counts([1, 1], 8) == [4, 4]
    assert batch_counts([3, 1], 8) == [6, 2]
    assert sum(batch_counts([1, 1, 1], 10)) == 10
    with pytest.raises(UserError, match="weight"):
        batch_counts([1000, 1], 8)


def test_stream_covers_each_source_once_per_epoch_and_is_deterministic():
    s = SampleStream([5, 12], [2, 2], seed=7)
    keys = [k for t in range(6) for k in s.batch(t)]  # 12 draws from each source
    from_b = sorted(i for src, i, _ in keys if src == 1)
    assert from_b == list(range(12))  # one epoch of source 1, no repeat
    a_first_epoch = [i for src, i, q in keys if src == 0 and q < 5]
    assert sorted(a_first_epoch) == list(range(5))
    assert SampleStream([5, 12], [2, 2], seed=7).batch(3) == s.batch(3)
    assert SampleStream([5, 12], [2, 2], seed=8).batch(3) != s.batch(3)


def test_ranks_together_see_the_single_process_micro_batches():
    stream = SampleStream([40], [8], seed=0)
    single = list(MicroBatchSampler(stream, 2, 4, accumulate=4))  # 4 micro-batches of 2 per step
    r0 = list(MicroBatchSampler(stream, 2, 4, rank=0, world_size=2, accumulate=2))
    r1 = list(MicroBatchSampler(stream, 2, 4, rank=1, world_size=2, accumulate=2))
    assert single == [*r0[:2], *r1[:2], *r0[2:], *r1[2:]]
    with pytest.raises(UserError, match="divisible"):
        MicroBatchSampler(stream, 0, 1, world_size=3)


def test_views_shape_normalisation_and_determinism():
    img = np.random.default_rng(0).integers(0, 256, (40, 36, 3), dtype=np.uint8)
    cfg = ViewConfig(erase_p=0.5)
    v = make_view(img, 32, cfg, np.random.default_rng(1))
    assert v.shape == (3, 32, 32) and v.dtype == np.float32
    np.testing.assert_array_equal(v, make_view(img, 32, cfg, np.random.default_rng(1)))
    plain = ViewConfig(crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), color_p=0, gray_p=0, blur_p=0, solarize_p=0,
                       mean=(0, 0, 0), std=(1, 1, 1))
    sq = img[:32, :32]
    np.testing.assert_allclose(make_view(sq, 32, plain, np.random.default_rng(0)), sq.transpose(2, 0, 1) / 255.0, atol=1e-6)


def test_random_resized_crop_keeps_scale_range():
    img = np.zeros((100, 100, 3), np.uint8)
    img[40:60, 40:60] = 255  # the "face"
    for seed in range(20):
        out = random_resized_crop(img, 20, (0.5, 1.0), (0.75, 4 / 3), np.random.default_rng(seed))
        assert out.shape == (20, 20, 3)


def test_loader_mixes_synthetic_and_folder(tiny_synth, tmp_path):
    folder = tmp_path / "faces"
    folder.mkdir()
    for i in range(5):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((48, 40, 3), 40 * i, np.uint8))
    sources = [DataSource("synthetic", str(tiny_synth)), DataSource("folder", str(folder), weight=1.0)]
    loader = build_loader(sources, 32, ViewConfig(), batch_size=8, seed=0, start_step=0, total_steps=2, accumulate=2)
    batches = list(loader)
    assert len(batches) == 4
    x0, x1 = batches[0]
    assert x0.shape == (4, 3, 32, 32) and x1.shape == (4, 3, 32, 32) and not torch.equal(x0, x1)
    again = list(build_loader(sources, 32, ViewConfig(), batch_size=8, seed=0, start_step=1, total_steps=2, accumulate=2))
    assert torch.equal(again[0][0], batches[2][0])  # starting at step 1 = the tail of the full stream


def test_missing_source_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        build_loader([DataSource("folder", str(tmp_path / "nope"))], 32, ViewConfig(), batch_size=8, seed=0,
                     start_step=0, total_steps=1)
