"""SimCLR: contrast two views of each image against every other image in the batch.

Chen, Kornblith, Norouzi, Hinton, "A Simple Framework for Contrastive Learning of Visual
Representations", ICML 2020 (arXiv:2002.05709).

Built from lightly: ``SimCLRProjectionHead`` (MLP with batch norm) and ``NTXentLoss``
(normalised temperature-scaled cross entropy). ``gather_distributed=True``: under DDP the
negatives are the projections of *all* ranks' images (the global batch), as in the paper.
With gradient accumulation the negatives are those of one micro-batch.
"""

from __future__ import annotations

import torch
from lightly.loss import NTXentLoss
from lightly.models.modules import SimCLRProjectionHead
from torch import nn

from pretrain.methods import SSLMethod, register_method

__all__ = ["SimCLR"]


@register_method("simclr")
class SimCLR(SSLMethod):
    """Args:
        backbone: feature extractor ``(B, 3, H, W) -> (B, C)`` with ``num_features`` = C.
        hidden_dim, out_dim: projection MLP widths (paper: 2048, 128).
        temperature: NT-Xent temperature (paper: 0.1 - 0.5).
    """

    def __init__(self, backbone: nn.Module, hidden_dim: int = 2048, out_dim: int = 128, temperature: float = 0.1) -> None:
        super().__init__()
        self.backbone = backbone
        self.projection_head = SimCLRProjectionHead(backbone.num_features, hidden_dim, out_dim)
        self.criterion = NTXentLoss(temperature=temperature, gather_distributed=True)

    def training_step(self, views: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x0, x1 = views
        z = self.projection_head(self.backbone(torch.cat([x0, x1])))  # (2B, out_dim), one pass for both views
        z0, z1 = z.float().chunk(2)
        return self.criterion(z0, z1)
