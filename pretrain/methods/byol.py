"""BYOL: predict the target (momentum) network's projection of one view from the other view.

Grill et al., "Bootstrap Your Own Latent: A New Approach to Self-Supervised Learning",
NeurIPS 2020 (arXiv:2006.07733). No negatives: the loss is per sample.

Built from lightly: ``BYOLProjectionHead``, ``BYOLPredictionHead``,
``NegativeCosineSimilarity``, ``deactivate_requires_grad`` / ``update_momentum`` and
``cosine_schedule`` (target momentum tau: 0.996 -> 1, as in the paper).

Because the loss is a mean of per-sample terms, a DDP step over R ranks of B/R images
equals a single-process step with R micro-batches of B/R (gradient accumulation): batch
norm sees the same groups and the gradients average the same terms
(``tests/pretrain/test_distributed.py`` pins this).
"""

from __future__ import annotations

import copy

import torch
from lightly.loss import NegativeCosineSimilarity
from lightly.models.modules import BYOLPredictionHead, BYOLProjectionHead
from lightly.models.utils import deactivate_requires_grad, update_momentum
from lightly.utils.scheduler import cosine_schedule
from torch import nn

from pretrain.methods import SSLMethod, register_method

__all__ = ["BYOL"]


@register_method("byol")
class BYOL(SSLMethod):
    """Args:
        backbone: feature extractor with ``num_features``.
        hidden_dim, out_dim: projector/predictor widths (paper: 4096, 256).
        momentum_start, momentum_end: target EMA momentum, cosine schedule over steps.
    """

    def __init__(self, backbone: nn.Module, hidden_dim: int = 4096, out_dim: int = 256,
                 momentum_start: float = 0.996, momentum_end: float = 1.0) -> None:
        super().__init__()
        self.backbone = backbone
        self.projection_head = BYOLProjectionHead(backbone.num_features, hidden_dim, out_dim)
        self.prediction_head = BYOLPredictionHead(out_dim, hidden_dim, out_dim)
        self.backbone_momentum = copy.deepcopy(self.backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        deactivate_requires_grad(self.backbone_momentum)
        deactivate_requires_grad(self.projection_head_momentum)
        self.criterion = NegativeCosineSimilarity()
        self.momentum_start, self.momentum_end = float(momentum_start), float(momentum_end)

    def training_step(self, views: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x0, x1 = views
        x = torch.cat([x0, x1])  # both views in one pass: (2B, 3, H, W)
        p0, p1 = self.prediction_head(self.projection_head(self.backbone(x))).float().chunk(2)
        with torch.no_grad():
            z0, z1 = self.projection_head_momentum(self.backbone_momentum(x)).float().chunk(2)
        return 0.5 * (self.criterion(p0, z1.detach()) + self.criterion(p1, z0.detach()))

    @torch.no_grad()
    def after_optimizer_step(self, step: int, max_steps: int) -> None:
        m = cosine_schedule(step, max_steps, self.momentum_start, self.momentum_end)
        update_momentum(self.backbone, self.backbone_momentum, m=m)
        update_momentum(self.projection_head, self.projection_head_momentum, m=m)
