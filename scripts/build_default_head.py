"""Build the procedural default head and write it as a facesynth-3dmm file.

    python scripts/build_default_head.py --out assets/default_head.npz

Deterministic: the same code gives the same file contents (bases stored as float16).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from synth.errors import cli_errors  # noqa: E402


@cli_errors
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("assets/default_head.npz"), help="output .npz path")
    args = parser.parse_args(argv)

    from synth.headgen import build_default_head
    from synth.model_io import save_model

    t0 = time.perf_counter()
    model = build_default_head()
    t_build = time.perf_counter() - t0
    path = save_model(model, args.out, half=True)
    print(model.summary())
    print(f"built in {t_build:.1f} s; wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
