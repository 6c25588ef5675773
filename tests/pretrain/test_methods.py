"""Every registered method learns: on a fixed batch its loss drops within a few optimizer steps."""

from __future__ import annotations

import pytest
import torch

from pretrain.backbones import init_backbone
from pretrain.methods import METHODS, create_method
from synth.errors import UserError


def _views(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(8, 3, 32, 32, generator=g)
    return x + 0.05 * torch.randn(x.shape, generator=g), x.flip(2) * 0.9  # two "views" of 8 images


@pytest.mark.parametrize("name", sorted(METHODS))
def test_loss_drops_on_a_fixed_batch(name):
    torch.manual_seed(0)
    opts = {"hidden_dim": 64, "out_dim": 32}
    if name == "moco":  # a queue of the same 8 images would hold the positives as negatives
        opts["memory_bank_size"] = 0
    method = create_method(name, init_backbone("mobilenet_v3_small", 0), **opts).train()
    opt = torch.optim.AdamW([p for p in method.parameters() if p.requires_grad], lr=1e-3)
    views = _views()
    losses = []
    for step in range(20):
        loss = method.training_step(views)
        opt.zero_grad()
        loss.backward()
        opt.step()
        method.after_optimizer_step(step, 20)
        losses.append(float(loss.detach()))
    assert all(torch.isfinite(torch.tensor(losses)))
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < first - 0.05 * abs(first), (name, losses)


def test_moco_queue_is_in_the_state_dict():
    torch.manual_seed(0)
    a = create_method("moco", init_backbone("resnet18", 0), hidden_dim=32, out_dim=16, memory_bank_size=32)
    a.training_step(_views())
    b = create_method("moco", init_backbone("resnet18", 1), hidden_dim=32, out_dim=16, memory_bank_size=32)
    b.load_state_dict(a.state_dict())
    qa, qb = a.criterion.memory_bank, b.criterion.memory_bank
    assert torch.equal(qa.bank, qb.bank) and int(qb.bank_ptr) == 8


def test_unknown_method_and_option_are_user_errors():
    with pytest.raises(UserError, match="expected one of"):
        create_method("simsiam2", init_backbone("resnet18", 0))
    with pytest.raises(UserError, match="valid options: .*temperature"):
        create_method("simclr", init_backbone("resnet18", 0), temprature=0.1)
