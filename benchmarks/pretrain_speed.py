"""Pretraining throughput: optimizer steps of SimCLR on random tensors, images/s per backbone, size and AMP.

Measures the model step only (forward of both views, backward, AdamW step); the data
pipeline is benchmarked by ``benchmarks/data_loader.py``. An "image" is one source image
(two views).

    python benchmarks/pretrain_speed.py                      # CPU, batch 64, table on stdout
    python benchmarks/pretrain_speed.py --device cuda --batch 256
"""

from __future__ import annotations

import argparse
import time

import torch

from pretrain.backbones import init_backbone
from pretrain.methods import create_method
from pretrain.train import amp_policy


def images_per_s(backbone: str, size: int, amp: str, batch: int, steps: int, warmup: int, device: torch.device) -> float:
    method = create_method("simclr", init_backbone(backbone, 0)).to(device).train()
    opt = torch.optim.AdamW(method.parameters(), lr=1e-4)
    enabled, dtype, _ = amp_policy(amp, device)
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(batch, 3, size, size, generator=g).to(device)
    x1 = torch.randn(batch, 3, size, size, generator=g).to(device)
    for i in range(warmup + steps):
        if i == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype, enabled=enabled):
            loss = method((x0, x1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backbones", nargs="+", default=["resnet18", "mobilenet_v3_small"])
    p.add_argument("--sizes", nargs="+", type=int, default=[112, 128])
    p.add_argument("--amp", nargs="+", default=["off", "bf16"], choices=["off", "bf16", "fp16"])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"device={device} threads={torch.get_num_threads()} batch={args.batch} steps={args.steps} torch={torch.__version__}")
    print(f"{'backbone':<20} {'size':>5} {'amp':>5} {'images/s':>10}")
    for bb in args.backbones:
        for size in args.sizes:
            for amp in args.amp:
                ips = images_per_s(bb, size, amp, args.batch, args.steps, args.warmup, device)
                print(f"{bb:<20} {size:>5} {amp:>5} {ips:>10.1f}", flush=True)


if __name__ == "__main__":
    main()
