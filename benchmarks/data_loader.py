"""Training loader throughput: HDF5 read + face crop + augmentation at 128 px, samples/s.

Generates a temporary dataset (``synth.generate`` with the built-in head at 128 px, JPEG
codec, the generator's default), or, when the built-in head is not available or with
``--fake``, writes shards of the same fields with smooth random images (JPEG too, so the
decode cost is the same). Then reads it through ``SyntheticDataset`` ->
``CropAugment`` (``face_crop`` at 128 px with jitter + the default ``AugmentConfig``, one
warp) -> ``FaceSample.to_dict`` in a ``DataLoader`` (batches fetched through
``SyntheticDataset.__getitems__``, collated by ``synth.data.record.collate_dicts``) with 0, 1
and 2 workers, and prints samples/s and samples/s per worker. Goal: >= 1,000 samples/s per
worker. Run by hand:

    python benchmarks/data_loader.py            # 512 samples
    python benchmarks/data_loader.py --n 2048 --fake
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

SIZE = 128
K = 68


class _FakeMaker:
    """Picklable ``index -> fields`` with a smooth random image and a plausible landmark layout."""

    def __init__(self, size: int = SIZE):
        self.size = size

    def __call__(self, i: int) -> dict[str, np.ndarray]:
        import cv2

        from synth.geometry import euler_to_matrix

        rng = np.random.default_rng(i)
        s = self.size
        img = cv2.resize(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), (s, s), interpolation=cv2.INTER_CUBIC)
        centre, half = s / 2 + rng.uniform(-5, 5, 2), s * 0.3
        lmk = (centre + rng.uniform(-half, half, (K, 2))).astype(np.float32)
        ypr = rng.uniform(-90, 90, 3)
        return {
            "image": img, "lmk2d": lmk, "lmk2d_contour": lmk, "visible": rng.random(K) < 0.8,
            "visible_contour": rng.random(K) < 0.8, "rotation": euler_to_matrix(*ypr).astype(np.float32),
            "euler_deg": ypr.astype(np.float32), "bbox": np.concatenate([lmk.min(0), lmk.max(0)]),
        }


def _fake_dataset(out: Path, n: int, codec: str) -> None:
    from synth.schema import Field, ImageCodec
    from synth.shards import write_shards

    fields = [Field("image", (SIZE, SIZE, 3), "uint8", "image"), Field("lmk2d", (K, 2), "float32"),
              Field("lmk2d_contour", (K, 2), "float32"), Field("visible", (K,), "bool"),
              Field("visible_contour", (K,), "bool"), Field("rotation", (3, 3), "float32"),
              Field("euler_deg", (3,), "float32"), Field("bbox", (4,), "float32")]
    attrs = {"config": "{}", "model_name": "fake", "model_checksum": "0", "seed": 0}
    write_shards(out, n, _FakeMaker(), fields, shard_size=1000, workers=min(2, os.cpu_count() or 1),
                 root_attrs=attrs, codec=ImageCodec.parse(codec), progress=False)


def _real_dataset(out: Path, n: int, codec: str) -> None:
    from synth.gen_config import resolve_config
    from synth.generate import generate

    cfg = resolve_config(overrides=[f"crop.image_size={SIZE}", f"output.codec={codec}"])
    generate(cfg, out, n, workers=min(2, os.cpu_count() or 1), progress=False)


class _Transform:
    """``CropAugment`` (crop + default augmentation, one warp) -> dict; picklable for any start method."""

    def __init__(self, seed: int = 0):
        from synth.data.augment import AugmentConfig, CropAugment

        self.crop_augment = CropAugment(SIZE, AugmentConfig(), crop_jitter=((0.9, 1.1), 0.05), seed=seed)

    def __call__(self, sample):
        return self.crop_augment(sample).to_dict()


def _measure(ds, workers: int, batch_size: int, epochs: int) -> float:
    import torch

    from synth.data.record import collate_dicts
    from synth.threads import single_thread_worker

    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True, num_workers=workers,
                                         collate_fn=collate_dicts, persistent_workers=workers > 0, drop_last=True,
                                         worker_init_fn=single_thread_worker if workers > 0 else None)
    for _ in loader:  # warm-up epoch: worker start, file opens, page cache
        pass
    t0, count = time.perf_counter(), 0
    for _ in range(epochs):
        for batch in loader:
            count += len(batch["image"])
    return count / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=512, help="samples in the temporary dataset")
    ap.add_argument("--epochs", type=int, default=3, help="timed passes over the dataset")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--fake", action="store_true", help="skip the renderer; write fake shards")
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--codec", default="jpeg", help="image storage: jpeg (the generator's default) or raw-lzf, ...")
    args = ap.parse_args()

    import torch

    from synth.data.synthetic import SyntheticDataset

    torch.set_num_threads(1)
    import cv2

    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ds"
        kind = "fake"
        if not args.fake:
            try:
                import synth.default_model  # noqa: F401

                kind = "generated"
            except ImportError:
                print("built-in head model not available: using fake shards (--fake)")
        t0 = time.perf_counter()
        (_real_dataset if kind == "generated" else _fake_dataset)(out, args.n, args.codec)
        print(f"dataset: {args.n} {kind} samples at {SIZE} px ({args.codec}) in {time.perf_counter() - t0:.1f} s")
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch threads 1")
        ds = SyntheticDataset(out, transform=_Transform())
        for w in args.workers:
            rate = _measure(ds, w, args.batch_size, args.epochs)
            per = rate / max(w, 1)
            print(f"workers={w}: {rate:8.0f} samples/s  ({per:6.0f} per {'worker' if w else 'main process'})")


if __name__ == "__main__":
    main()
