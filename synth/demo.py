"""``make demo``: the pipeline on the built-in head model, end to end, in a few minutes.

1. loads the built-in 3DMM, prints its summary, writes a preview (front, three-quarter,
   profile, up-left; mean, random identities and expressions) with landmarks drawn;
2. generates a small synthetic dataset with the ``extreme`` pose preset (2 workers),
   writes its contact sheet and label statistics.

Later stages (pretraining, fine-tuning) extend this script as they land.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from synth.errors import cli_errors

__all__ = ["main"]


@cli_errors
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m synth.demo", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="out/demo", help="output folder")
    p.add_argument("-n", type=int, default=512, help="synthetic samples to generate")
    p.add_argument("--size", type=int, default=128, help="image size of the synthetic crops")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from synth.contact_sheet import contact_sheet
    from synth.default_model import load_default_model
    from synth.gen_config import resolve_config
    from synth.generate import generate
    from synth.preview import preview_sheet, save_png
    from synth.shards import inspect_dataset

    t0 = time.perf_counter()
    model = load_default_model()
    print(model.summary())
    preview = save_png(out / "model_preview.png", preview_sheet(model, np.random.default_rng(0)))
    print(f"[1/2] model preview: {preview}")

    cfg = resolve_config(preset="extreme", overrides=[f"crop.image_size={args.size}", "output.shard_size=256"])
    ds = out / "dataset"
    generate(cfg, ds, args.n, workers=args.workers, resume=True)
    sheet = save_png(out / "dataset_preview.png", contact_sheet(ds, n=36, columns=6))
    print(inspect_dataset(ds))
    print(f"[2/2] dataset: {ds}  contact sheet: {sheet}")
    print(f"demo finished in {time.perf_counter() - t0:.0f} s; results in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
