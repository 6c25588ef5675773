"""``finetune``: the command line of the finetune stage.

The training subcommands arrive with their issues; ``finetune env`` reports what a run here
would use (device, threads, versions), which is the first thing to check on a new machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from synth.errors import cli_errors

__all__ = ["main"]


def _cmd_env(args: argparse.Namespace) -> int:
    import torch

    from synth.provenance import versions

    info = dict(versions())
    info["device"] = "cuda" if torch.cuda.is_available() else "cpu"
    info["cuda_devices"] = str(torch.cuda.device_count())
    info["torch_threads"] = str(torch.get_num_threads())
    print(json.dumps(info, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="finetune", description="facesynth finetune stage.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    env = sub.add_parser("env", help="print the device, threads and package versions a run would use")
    env.set_defaults(func=_cmd_env)
    return p


@cli_errors
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
