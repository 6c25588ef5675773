"""MoCo v2: contrast a query against its momentum-encoded key and a queue (memory bank) of past keys.

He, Fan, Wu, Xie, Girshick, "Momentum Contrast for Unsupervised Visual Representation
Learning", CVPR 2020 (arXiv:1911.05722); Chen, Fan, Girshick, He, "Improved Baselines with
Momentum Contrastive Learning", 2020 (arXiv:2003.04297): MLP head, stronger augmentation.

Built from lightly: ``MoCoProjectionHead``, ``NTXentLoss(memory_bank_size=(K, D))`` as the
queue, ``deactivate_requires_grad`` / ``update_momentum`` for the key encoder and
``cosine_schedule`` for its momentum (momentum_start -> momentum_end over training, as in
lightly's examples; the paper keeps 0.999 fixed: set both ends equal). Under DDP the keys
of all ranks enter the queue (``gather_distributed``) and the key encoder uses shuffled
batch norm across ranks (``batch_shuffle_distributed``).

The memory bank is a non-persistent buffer in lightly; here it is saved through
``get_extra_state`` so that a resumed run continues with the same queue.
"""

from __future__ import annotations

import copy

import torch
from lightly.loss import NTXentLoss
from lightly.models.modules import MoCoProjectionHead
from lightly.models.utils import (batch_shuffle_distributed, batch_unshuffle_distributed,
                                  deactivate_requires_grad, update_momentum)
from lightly.utils.scheduler import cosine_schedule
from torch import nn

from pretrain.methods import SSLMethod, register_method

__all__ = ["MoCo"]


def _world_size() -> int:
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


@register_method("moco")
class MoCo(SSLMethod):
    """Args:
        backbone: feature extractor with ``num_features``.
        hidden_dim, out_dim: projection MLP widths (paper: 2048, 128).
        temperature: InfoNCE temperature (paper: 0.2).
        memory_bank_size: number of queued keys K (paper: 65536); must exceed the batch;
            0: no queue (negatives from the batch, as in SimCLR).
        momentum_start, momentum_end: key-encoder EMA momentum, cosine schedule over steps.
    """

    def __init__(self, backbone: nn.Module, hidden_dim: int = 2048, out_dim: int = 128, temperature: float = 0.2,
                 memory_bank_size: int = 4096, momentum_start: float = 0.99, momentum_end: float = 1.0) -> None:
        super().__init__()
        self.backbone = backbone
        self.projection_head = MoCoProjectionHead(backbone.num_features, hidden_dim, out_dim)
        self.backbone_momentum = copy.deepcopy(self.backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        deactivate_requires_grad(self.backbone_momentum)
        deactivate_requires_grad(self.projection_head_momentum)
        bank = (int(memory_bank_size), int(out_dim)) if memory_bank_size > 0 else 0
        self.criterion = NTXentLoss(temperature=temperature, memory_bank_size=bank, gather_distributed=True)
        self.momentum_start, self.momentum_end = float(momentum_start), float(momentum_end)

    @torch.no_grad()
    def _keys(self, x: torch.Tensor) -> torch.Tensor:
        if _world_size() > 1:
            x, shuffle = batch_shuffle_distributed(x)
            k = self.projection_head_momentum(self.backbone_momentum(x))
            return batch_unshuffle_distributed(k, shuffle)
        return self.projection_head_momentum(self.backbone_momentum(x))

    def training_step(self, views: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x_query, x_key = views
        query = self.projection_head(self.backbone(x_query)).float()
        key = self._keys(x_key).float().detach()
        return self.criterion(query, key)  # updates the queue with ``key`` (query requires grad)

    @torch.no_grad()
    def after_optimizer_step(self, step: int, max_steps: int) -> None:
        m = cosine_schedule(step, max_steps, self.momentum_start, self.momentum_end)
        update_momentum(self.backbone, self.backbone_momentum, m=m)
        update_momentum(self.projection_head, self.projection_head_momentum, m=m)

    # the queue is a non-persistent buffer in lightly: carry it in the state dict
    def get_extra_state(self) -> dict:
        bank = self.criterion.memory_bank
        if bank.size[0] == 0:
            return {}
        return {"bank": bank.bank.detach().cpu().clone(), "bank_ptr": bank.bank_ptr.detach().cpu().clone()}

    def set_extra_state(self, state: dict) -> None:
        bank = self.criterion.memory_bank
        if bank.size[0] == 0 or not state:
            if bool(state) != (bank.size[0] > 0):
                raise ValueError("memory_bank_size differs from the checkpoint's (queue present in one, not the other)")
            return
        if tuple(state["bank"].shape) != tuple(bank.bank.shape):
            raise ValueError(f"memory bank shape {tuple(state['bank'].shape)} in the checkpoint, "
                             f"expected {tuple(bank.bank.shape)} (memory_bank_size, out_dim)")
        bank.bank.copy_(state["bank"])
        bank.bank_ptr.copy_(state["bank_ptr"])
