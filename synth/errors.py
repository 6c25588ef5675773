"""User-facing errors: one line, naming the file, field or value and what was expected.

CLIs catch ``UserError`` at the entry point, print ``error: <message>`` and exit with
status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
from typing import Callable, TypeVar

__all__ = ["UserError", "cli_errors", "run_cli"]

F = TypeVar("F", bound=Callable[..., int | None])


class UserError(Exception):
    """A mistake in the user's input (file, config value, argument), not a bug."""


def cli_errors(main: F) -> F:
    """Decorate a CLI ``main``: ``UserError`` -> one line on stderr and exit status 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UserError as e:
            print(f"error: {e}", file=sys.stderr)
            raise SystemExit(2) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise SystemExit(130) from None

    return wrapper  # type: ignore[return-value]


@cli_errors
def run_cli(parser, argv=None) -> int:
    """Parse ``argv`` with an argparse parser whose subcommands set ``func`` and run it.

    The one entry-point body shared by the ``synth``, ``pretrain`` and ``finetune`` scripts.
    """
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)
