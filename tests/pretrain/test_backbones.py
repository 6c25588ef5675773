"""Contract of every registered backbone: shapes of forward / forward_features, gradients flow."""

from __future__ import annotations

import pytest
import torch

from pretrain.backbones import BACKBONES, create_backbone, init_backbone
from synth.errors import UserError


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_forward_backward_64px(name):
    torch.manual_seed(0)
    net = create_backbone(name).train()
    x = torch.randn(2, 3, 64, 64)
    fmap = net.forward_features(x)
    assert fmap.shape == (2, net.num_features, 2, 2)  # stride 32
    pooled = net(x)
    assert pooled.shape == (2, net.num_features)
    pooled.square().mean().backward()
    grads = [p.grad for p in net.parameters() if p.requires_grad]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)


def test_unknown_backbone_lists_names():
    with pytest.raises(UserError, match="resnet18"):
        create_backbone("vgg11")


def test_init_backbone_is_a_function_of_the_seed_and_leaves_the_global_rng():
    state = torch.get_rng_state()
    a, b = init_backbone("resnet18", 3), init_backbone("resnet18", 3)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    c = init_backbone("resnet18", 4)
    assert not torch.equal(a.trunk[0].weight, c.trunk[0].weight)


def test_bad_input_shape_says_expected():
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        create_backbone("resnet18")(torch.randn(2, 1, 32, 32))
