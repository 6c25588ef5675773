"""``finetune``: the command line of the finetune stage.

The training subcommands arrive with their issues; ``finetune env`` reports what a run here
would use (device, threads, versions), which is the first thing to check on a new machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from synth.errors import run_cli

__all__ = ["main"]


def _cmd_env(args: argparse.Namespace) -> int:
    from synth.provenance import environment

    print(json.dumps(environment(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="finetune", description="facesynth finetune stage.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    env = sub.add_parser("env", help="print the device, threads and package versions a run would use")
    env.set_defaults(func=_cmd_env)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
