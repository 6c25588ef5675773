"""``make demo``, stage 2: a short SimCLR pretraining run on the demo's synthetic shards.

Runs after ``synth.demo`` (which writes ``OUT/dataset``): generates two small labelled
probe splits, pretrains a MobileNetV3-small for a few dozen steps, and probes its frozen
features against a randomly initialised twin (``probe.json``). A real run is longer: see
``configs/pretrain-simclr.yaml``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from synth.errors import UserError, cli_errors

__all__ = ["main"]


@cli_errors
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pretrain.demo", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="out/demo", help="the demo folder (holds dataset/ from synth.demo)")
    p.add_argument("--steps", type=int, default=40)
    args = p.parse_args(argv)
    out = Path(args.out)
    data = out / "dataset"
    if not data.is_dir():
        raise UserError(f"{data}: run `python -m synth.demo --out {out}` first (it writes the synthetic shards)")

    from pretrain.config import resolve_config
    from pretrain.train import run
    from synth.gen_config import resolve_config as synth_config
    from synth.generate import generate

    t0 = time.perf_counter()
    for name, n, seed in (("probe_train", 256, 101), ("probe_test", 128, 102)):
        cfg = synth_config(preset="extreme", overrides=["crop.image_size=64", f"seed={seed}", "output.shard_size=256"])
        generate(cfg, out / name, n, workers=2, resume=True, progress=False)
    run_dir = out / "pretrain"
    cfg = resolve_config(overrides=[
        "method=simclr", "backbone=mobilenet_v3_small", "image_size=64", f"data=[{{kind: synthetic, path: {data}}}]",
        "batch_size=32", f"steps={args.steps}", "optim.name=adamw", "optim.lr=0.002", "optim.warmup_steps=5",
        "num_workers=0", "checkpoint_every=20", "log_every=5", f"out_dir={run_dir}",
        f"probe={{train: {out / 'probe_train'}, test: {out / 'probe_test'}}}",
    ])
    resume = (run_dir / "checkpoints" / "last.pt").is_file() and not (run_dir / "backbone.pt").is_file()
    if (run_dir / "backbone.pt").is_file():
        print(f"[pretrain] {run_dir} already finished; delete it to run again")
    else:
        run(cfg, resume=resume)
    last = json.loads((run_dir / "probe.json").read_text())["history"][-1]
    print(f"[pretrain] {args.steps} SimCLR steps in {time.perf_counter() - t0:.0f} s; backbone: {run_dir / 'backbone.pt'}")
    print(f"[pretrain] linear probe on frozen features ({last['n_train']} train / {last['n_test']} test synthetic faces):")
    for name in ("pretrained", "random_init"):
        r = last[name]["linear"]
        print(f"             {name:12s} yaw MAE {r['yaw_mae_deg']:5.1f} deg, mean MAE {r['mean_mae_deg']:5.1f} deg, NME {r['nme']:.3f}")
    print("           (a few dozen steps prove the plumbing, not the method: see benchmarks/RESULTS.md for a real run)")
    print(f"[pretrain] loss curve: {run_dir / 'loss.png'}; metrics: {run_dir / 'metrics.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
