"""Throughput of the shard writer alone (trivial make_sample), per image codec.

    python benchmarks/shard_writer.py [--n 2000] [--size 128] [--workers 1] [--noise 3]

The sample function returns one of 16 pre-made render-like images (smooth shading, a few
discs, mild noise) plus small label arrays, so the time is HDF5 writing, compression and
(for jpeg/png) encoding.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from synth.schema import Field, ImageCodec
from synth.shards import write_shards


class Trivial:
    def __init__(self, size: int, noise: float = 3.0):
        rng = np.random.default_rng(0)
        yy, xx = np.mgrid[0:size, 0:size] / size
        bank = []
        for _ in range(16):
            img = 60 + 120 * (0.5 * yy + 0.3 * xx)[..., None] * rng.uniform(0.5, 1.0, 3)
            for _ in range(5):
                cy, cx, r = rng.uniform(0, 1, 3) * (1, 1, 0.25)
                img[(yy - cy) ** 2 + (xx - cx) ** 2 < r**2] = rng.uniform(0, 255, 3)
            img += rng.normal(0, noise, img.shape)
            bank.append(np.clip(img, 0, 255).astype(np.uint8))
        self.bank = bank
        self.size = size

    def __call__(self, i: int) -> dict[str, np.ndarray]:
        return {"image": self.bank[i % 16], "euler_deg": np.zeros(3, np.float32),
                "lmk2d_px": np.zeros((68, 2), np.float32), "visible": np.ones(68, bool)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--noise", type=float, default=3.0, help="pixel noise sigma (0 = very compressible)")
    ap.add_argument("--codecs", default="raw-lzf,raw-gzip,png,jpeg:95")
    args = ap.parse_args()
    make = Trivial(args.size, args.noise)
    fields = [Field("image", (args.size, args.size, 3), "uint8", "image"), Field("euler_deg", (3,), "float32"),
              Field("lmk2d_px", (68, 2), "float32"), Field("visible", (68,), "bool")]
    attrs = dict(config="bench", model_name="none", model_checksum="", seed=0)
    for spec in args.codecs.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            write_shards(Path(tmp), args.n, make, fields, shard_size=1000, workers=args.workers,
                         root_attrs=attrs, codec=ImageCodec.parse(spec), progress=False)
            dt = time.perf_counter() - t0
            mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
        print(f"{spec:<10} {args.n / dt:8.0f} samples/s  {mb / args.n * 1e3:7.1f} kB/sample")


if __name__ == "__main__":
    main()
