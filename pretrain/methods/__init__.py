"""Self-supervised methods: a registry of ``SSLMethod`` modules built from lightly's heads and losses.

Every method wraps a backbone (``pretrain.backbones``) and implements

- ``training_step(views) -> loss``: ``views`` = (x0, x1), two augmented views of the same
  B images, each (B, 3, H, W) float; the loss is a scalar tensor (mean over the batch);
  ``forward`` is the same call (so ``DistributedDataParallel(method)(views)`` works);
- ``after_optimizer_step(step, max_steps)``: called once per optimizer step (momentum
  encoders update here; a no-op otherwise);
- state beyond parameters/buffers (MoCo's memory bank) travels in ``get_extra_state``,
  so ``state_dict()`` is the whole training state of the method.

Usage::

    from pretrain.methods import create_method
    method = create_method("simclr", backbone, temperature=0.1)
"""

from __future__ import annotations

import inspect


import torch
from torch import nn

from synth.errors import UserError
from synth.registry import registrar

__all__ = ["METHODS", "SSLMethod", "register_method", "create_method"]

#: name -> method class; filled by ``@register_method``.
METHODS: dict[str, type["SSLMethod"]] = {}

#: Class decorator: register a ``SSLMethod`` subclass under ``name`` (unique).
register_method = registrar(METHODS, "method")


def method_options(name: str) -> list[str]:
    """The keyword options of method ``name`` (its constructor's arguments after ``backbone``)."""
    params = list(inspect.signature(METHODS[name].__init__).parameters.values())[2:]
    return [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def check_method(name: str, options: dict | None = None) -> None:
    """Raise ``UserError`` for an unknown method or an option it does not take."""
    if name not in METHODS:
        raise UserError(f"unknown method {name!r}; expected one of {sorted(METHODS)}")
    valid = method_options(name)
    for key in options or {}:
        if key not in valid:
            raise UserError(f"method_args.{key}: not an option of {name!r}; valid options: {', '.join(valid)}")


def create_method(name: str, backbone: nn.Module, **options) -> "SSLMethod":
    """Build method ``name`` around ``backbone`` (which must have ``num_features``)."""
    check_method(name, options)
    return METHODS[name](backbone, **options)


class SSLMethod(nn.Module):
    """Base class: ``backbone`` + method-specific heads; ``forward`` = ``training_step``."""

    backbone: nn.Module

    def training_step(self, views: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def forward(self, views: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x0, x1 = views
        if x0.shape != x1.shape or x0.ndim != 4:
            raise ValueError(f"expected two views of equal shape (B, 3, H, W), got {tuple(x0.shape)} and {tuple(x1.shape)}")
        return self.training_step((x0, x1))

    def after_optimizer_step(self, step: int, max_steps: int) -> None:
        """Hook after each optimizer step (0-based ``step`` of ``max_steps``)."""


# Registration: importing the method modules registers them.
from pretrain.methods import byol, moco, simclr  # noqa: E402,F401
