"""``backbone.pt``: the pretrained backbone handed to fine-tuning (state dict + metadata).

Format (``torch.save`` of a dict; loads with ``weights_only=True``)::

    {"format": "facesynth-backbone/1",
     "state_dict": {...},                      # Backbone.state_dict()
     "meta": {"backbone": "resnet18", "method": "simclr", "image_size": 112,
              "mean": [r, g, b], "std": [r, g, b],  # RGB normalisation on [0, 1] intensities
              "num_features": 512, "step": 1000, "config": "<resolved config YAML>"}}

Usage (fine-tuning)::

    from pretrain.backbone_io import load_backbone
    net, meta = load_backbone("out/pretrain/backbone.pt")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from pretrain.backbones import create_backbone
from pretrain.checkpoint import atomic_save, load_checkpoint
from synth.errors import UserError

__all__ = ["BACKBONE_FORMAT", "save_backbone", "load_backbone"]

BACKBONE_FORMAT = "facesynth-backbone/1"
_REQUIRED_META = ("backbone", "method", "image_size", "mean", "std")


def save_backbone(path: str | Path, backbone: nn.Module, meta: dict[str, Any]) -> Path:
    """Write ``backbone.pt`` atomically; ``meta`` needs at least backbone, method, image_size, mean, std."""
    missing = [k for k in _REQUIRED_META if k not in meta]
    if missing:
        raise ValueError(f"backbone meta lacks {missing}; expected keys {list(_REQUIRED_META)}")
    state = {k: v.detach().cpu() for k, v in backbone.state_dict().items()}
    meta = {**meta, "num_features": int(backbone.num_features), "mean": [float(v) for v in meta["mean"]],
            "std": [float(v) for v in meta["std"]]}
    return atomic_save({"format": BACKBONE_FORMAT, "state_dict": state, "meta": meta}, path)


def load_backbone(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """(backbone in eval mode, meta) from a ``backbone.pt`` (see the module doc for ``meta``).

    Raises:
        UserError: missing file, not a backbone checkpoint, or an unknown backbone name.
    """
    ckpt = load_checkpoint(path, map_location)
    if not isinstance(ckpt, dict) or ckpt.get("format") != BACKBONE_FORMAT:
        got = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise UserError(f"{path}: not a facesynth backbone checkpoint (format {got!r}, expected {BACKBONE_FORMAT!r})")
    meta = dict(ckpt["meta"])
    net = create_backbone(meta["backbone"])
    net.load_state_dict(ckpt["state_dict"])
    return net.eval(), meta
