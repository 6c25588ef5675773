"""DDP with 2 gloo processes (``torchrun``) on CPU equals the single-process run with 2 micro-batches.

Holds for BYOL (per-sample loss): each rank's micro-batch has the same images, views and
batch-norm groups as the corresponding single-process micro-batch, and the DDP gradient
average equals the accumulated mean. Compared on the parameters; batch-norm running
statistics are rank 0's under DDP (not the sequential update of one process), so they differ.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from _pretrain_helpers import tiny_overrides
from pretrain.backbones import create_backbone, init_backbone
from pretrain.config import resolve_config
from pretrain.train import run

REPO = Path(__file__).resolve().parents[2]


def test_two_gloo_ranks_match_one_process(tiny_synth, tmp_path):
    common = {"method": "byol", "steps": 2, "optim.grad_clip_norm": 1.0}
    ddp_out = tmp_path / "ddp"
    sets = sum((["--set", o] for o in tiny_overrides(tiny_synth, ddp_out, **common)), [])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
           "-m", "pretrain.cli", "run", *sets, "--no-progress"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]

    single = run(resolve_config(overrides=tiny_overrides(tiny_synth, tmp_path / "single", **common,
                                                         **{"optim.accumulate": 2})), progress=False)
    a = torch.load(ddp_out / "backbone.pt", weights_only=True)["state_dict"]
    b = torch.load(single / "backbone.pt", weights_only=True)["state_dict"]
    params = [n for n, _ in create_backbone("mobilenet_v3_small").named_parameters()]
    for n in params:
        torch.testing.assert_close(a[n], b[n], rtol=1e-4, atol=1e-5, msg=n)
    # negative controls: training moved the weights, and one full-batch micro-batch (BN over
    # 8 images instead of 2 x 4) gives a clearly different result
    init = init_backbone("mobilenet_v3_small", 0).state_dict()
    assert max(float((a[n] - init[n]).abs().max()) for n in params) > 1e-3
    whole = run(resolve_config(overrides=tiny_overrides(tiny_synth, tmp_path / "whole", **common)), progress=False)
    c = torch.load(whole / "backbone.pt", weights_only=True)["state_dict"]
    assert max(float((a[n] - c[n]).abs().max()) for n in params) > 1e-4
    la = (ddp_out / "metrics.jsonl").read_text().splitlines()
    lb = (single / "metrics.jsonl").read_text().splitlines()
    for ra, rb in zip(la, lb):
        assert abs(json.loads(ra)["loss"] - json.loads(rb)["loss"]) < 1e-4
