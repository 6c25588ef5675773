"""``pretrain``: the command line of the pretrain stage.

``pretrain run --config CFG [--set key=value ...] [--resume]`` trains a backbone with
self-supervised learning (``pretrain.train``); under ``torchrun --nproc_per_node N`` it
runs data-parallel. ``pretrain env`` reports what a run here would use (device, threads,
versions), which is the first thing to check on a new machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

from synth.errors import run_cli

__all__ = ["main"]


def _cmd_env(args: argparse.Namespace) -> int:
    from synth.provenance import environment

    print(json.dumps(environment(), indent=2))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from pretrain.config import resolve_config
    from pretrain.train import run

    cfg = resolve_config(args.config, args.overrides)
    out = run(cfg, resume=args.resume, progress=not args.no_progress, stop_after=args.stop_after)
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pretrain", description="facesynth pretrain stage.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    env = sub.add_parser("env", help="print the device, threads and package versions a run would use")
    env.set_defaults(func=_cmd_env)
    run = sub.add_parser("run", help="self-supervised pretraining of a backbone (writes backbone.pt)")
    run.add_argument("--config", "-c", help="YAML config (see configs/pretrain-simclr.yaml)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config value, e.g. --set optim.lr=0.01 (repeatable)")
    run.add_argument("--resume", action="store_true", help="continue from OUT_DIR/checkpoints/last.pt")
    run.add_argument("--stop-after", type=int, default=None, metavar="N",
                     help="stop with a checkpoint after N steps of this invocation (resume later)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(func=_cmd_run)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
