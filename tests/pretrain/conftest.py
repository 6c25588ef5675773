"""Fixtures for the pretrain tests: one tiny synthetic dataset (32 px) generated per session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread: on a small shared CPU, OpenMP with 2+ threads is ~10x slower for these tiny nets."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory) -> Path:
    """24 synthetic faces at 32 px in two shards of 12 (``shard-00000-of-00002.h5`` ...)."""
    pytest.importorskip("synth.default_model")
    from synth.gen_config import resolve_config
    from synth.generate import generate

    out = tmp_path_factory.mktemp("pretrain-synth")
    cfg = resolve_config(overrides=["crop.image_size=32", "output.shard_size=12", "render.supersample=1"])
    generate(cfg, out, 24, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_shards(tiny_synth) -> tuple[Path, Path]:
    """(train shard, test shard) of ``tiny_synth``, for the probes."""
    shards = sorted(tiny_synth.glob("shard-*.h5"))
    return shards[0], shards[1]
