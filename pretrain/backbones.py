"""Backbone registry shared by pretraining and fine-tuning (timm-style: a decorator on a short entrypoint).

Symbols: B batch, C = ``num_features`` channels, H x W input pixels, h x w feature map.

Every backbone is a ``Backbone``: an ``nn.Module`` with

- ``num_features``: int, channels of the last feature map (= width of the pooled vector);
- ``forward_features(x) -> (B, C, h, w)``: the last spatial map (stride 32 for all the
  torchvision models here), for dense heads (landmark heatmaps);
- ``forward(x) -> (B, C)``: global-average-pooled features.

Input: ``x`` (B, 3, H, W) float, RGB, normalised with the mean/std stored in the backbone
checkpoint (``pretrain.backbone_io``). All models are randomly initialised
(``weights=None``): nothing is ever downloaded.

Usage::

    from pretrain.backbones import create_backbone, BACKBONES
    net = create_backbone("resnet18")
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from synth.errors import UserError
from synth.registry import registrar

__all__ = ["BACKBONES", "Backbone", "register_backbone", "create_backbone", "init_backbone"]

#: name -> entrypoint ``(**kwargs) -> Backbone``; filled by ``@register_backbone``.
BACKBONES: dict[str, Callable[..., "Backbone"]] = {}
_register = registrar(BACKBONES, "backbone")


def register_backbone(fn: Callable[..., "Backbone"]) -> Callable[..., "Backbone"]:
    """Decorator: register an entrypoint under its function name (unique)."""
    return _register(fn.__name__)(fn)


def create_backbone(name: str, **kwargs) -> "Backbone":
    """Build the registered backbone ``name`` (random init).

    Raises:
        UserError: unknown name (the message lists the registered ones).
    """
    if name not in BACKBONES:
        raise UserError(f"unknown backbone {name!r}; expected one of {sorted(BACKBONES)}")
    return BACKBONES[name](**kwargs)


def init_backbone(name: str, seed: int, **kwargs) -> "Backbone":
    """``create_backbone`` with its random init drawn from ``seed`` (the global torch RNG is left untouched).

    The pretraining run and the probe's random baseline use this, so "same architecture,
    same seed" gives the same initial weights.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return create_backbone(name, **kwargs)


class Backbone(nn.Module):
    """A trunk (``(B, 3, H, W) -> (B, C, h, w)``) + global average pooling."""

    def __init__(self, trunk: nn.Module, num_features: int) -> None:
        super().__init__()
        self.trunk = trunk
        self.num_features = int(num_features)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, C, h, w) last feature map."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected images (B, 3, H, W), got {tuple(x.shape)}")
        return self.trunk(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, C) pooled features."""
        return self.forward_features(x).mean(dim=(2, 3))


def _resnet(builder: Callable[..., nn.Module]) -> Backbone:
    m = builder(weights=None)
    trunk = nn.Sequential(m.conv1, m.bn1, m.relu, m.maxpool, m.layer1, m.layer2, m.layer3, m.layer4)
    return Backbone(trunk, m.fc.in_features)


def _features_model(builder: Callable[..., nn.Module]) -> Backbone:
    """torchvision models with ``.features`` (MobileNetV3, EfficientNet); the classifier is dropped."""
    m = builder(weights=None)
    num = [mod for mod in m.features.modules() if isinstance(mod, nn.Conv2d)][-1].out_channels
    return Backbone(m.features, num)


@register_backbone
def resnet18() -> Backbone:
    """ResNet-18 (He et al., 2016, "Deep Residual Learning for Image Recognition"); C = 512."""
    from torchvision.models import resnet18 as tv

    return _resnet(tv)


@register_backbone
def resnet50() -> Backbone:
    """ResNet-50 (He et al., 2016); C = 2048."""
    from torchvision.models import resnet50 as tv

    return _resnet(tv)


@register_backbone
def mobilenet_v3_small() -> Backbone:
    """MobileNetV3-Small (Howard et al., 2019, "Searching for MobileNetV3"); C = 576."""
    from torchvision.models import mobilenet_v3_small as tv

    return _features_model(tv)


@register_backbone
def mobilenet_v3_large() -> Backbone:
    """MobileNetV3-Large (Howard et al., 2019); C = 960."""
    from torchvision.models import mobilenet_v3_large as tv

    return _features_model(tv)


@register_backbone
def efficientnet_b0() -> Backbone:
    """EfficientNet-B0 (Tan & Le, 2019, "EfficientNet: Rethinking Model Scaling"); C = 1280.

    Has stochastic depth (draws from the global torch RNG in training mode).
    """
    from torchvision.models import efficientnet_b0 as tv

    return _features_model(tv)
