"""Helpers shared by the pretrain tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from pathlib import Path


def tiny_overrides(data: Path, out: Path, **extra) -> list[str]:
    """``--set`` overrides of a run that takes a second or two on CPU."""
    base = {
        "data": f"[{{kind: synthetic, path: '{data}'}}]", "out_dir": f"'{out}'", "image_size": 32,
        "backbone": "mobilenet_v3_small", "batch_size": 8, "steps": 4, "amp": "off", "device": "cpu",
        "num_workers": 0, "log_every": 1, "checkpoint_every": 2,
        "method_args": "{hidden_dim: 64, out_dim: 32}",
    }
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]
