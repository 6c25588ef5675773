"""Generator throughput: labelled images/s per core, end to end, and scaling to 2 workers.

End to end = sampling, 3DMM evaluation, rendering, labels, occluders, degradations, JPEG
encoding and the HDF5 write (``synth.generate.generate``). Run by hand:

    python benchmarks/generate_speed.py                       # built-in head
    python benchmarks/generate_speed.py --ict ../shared/ict-facekit/FaceXModel.tar.xz
    python benchmarks/generate_speed.py --ict ../shared/ict-facekit/FaceXModel.tar.xz --models ict --repeat 3

Prints one line per (model, size, occluders, workers) with images/s, images/s per worker,
the peak resident memory of a worker process, the triangles rendered (the level of
detail, ``render.triangles_per_px``; ``--set render.triangles_per_px=0`` for the full mesh)
and the CPU time per image of the workers and of the parent (which writes the shards). On a
shared VM the CPU time per image shows whether a slower run is the machine: the same code
then takes more CPU per image (measured: 4.4 vs 6.6 ms on the two vCPUs at once).
One-time setup (numba compilation, model load, the level-of-detail decimation, ~1 s) is
done by an untimed warm-up run in the same process; forked workers inherit it. Goals (issue 4): on the ICT face + head
region at 128 px >= 200 images/s per core, at 256 px >= 120/s, near-linear to 2 workers.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import tarfile
import tempfile
import time
from pathlib import Path

import h5py

from synth.gen_config import resolve_config
from synth.generate import generate

NO_OCCLUDERS = [f"occluders.p_{k}=0" for k in ("mask", "glasses", "sunglasses", "hair", "cap", "object", "hand", "rgba")]


def _ict_model(src: Path, cache: Path) -> Path:
    """Import ICT-FaceKit (face + head/neck + eyes, the importer's default parts) once."""
    from synth.importers import import_model
    from synth.model_io import save_model

    out = cache / "ict.npz"
    if out.is_file():
        return out
    folder = src
    if src.is_file():  # the .tar.xz from ../shared
        with tarfile.open(src) as tar:
            tar.extractall(cache, filter="data")
        folder = cache / "FaceXModel"
    save_model(import_model("ict", folder), out)
    return out


def _run(model: str, size: int, occluders: bool, workers: int, n: int, work: Path,
         extra: list[str]) -> tuple[float, float, int, float, float]:
    """(images/s, peak RSS MB of a worker, triangles, worker CPU ms per image, parent CPU ms
    per image); with one worker the work runs in this process, so its CPU counts as the
    worker's."""
    overrides = [f"model={model}", f"crop.image_size={size}", *extra]  # default shards: 1000 samples
    if not occluders:
        overrides += NO_OCCLUDERS
    cfg = resolve_config(overrides=overrides)
    out = work / f"ds-{size}-{occluders}-{workers}"
    generate(cfg, out, 8, workers=1, progress=False)  # warm-up: numba caches, model tables
    shutil.rmtree(out)
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    shards = generate(cfg, out, n, workers=workers, progress=False)
    dt = time.perf_counter() - t0
    own, children = (b - a for a, b in zip(cpu0, _cpu_seconds()))
    worker_cpu, parent_cpu = (own, 0.0) if workers == 1 else (children, own)
    with h5py.File(shards[0]) as f:
        triangles = int(f.attrs["render_triangles"])
    shutil.rmtree(out)
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN if workers > 1 else resource.RUSAGE_SELF).ru_maxrss / 1024
    return n / dt, rss_mb, triangles, worker_cpu / n * 1e3, parent_cpu / n * 1e3


def _fixed_cost(model: str, size: int, work: Path, extra: list[str]) -> float:
    """Seconds of a whole one-image run (after a warm-up): what every run pays besides its
    images (config and provenance files, shard creation and fsync); the best of 3."""
    cfg = resolve_config(overrides=[f"model={model}", f"crop.image_size={size}", *extra])
    times = []
    for k in range(4):
        out = work / f"fixed-{k}"
        t0 = time.perf_counter()
        generate(cfg, out, 1, workers=1, progress=False)
        times.append(time.perf_counter() - t0)
        shutil.rmtree(out)
    return min(times[1:])


def _cpu_seconds() -> tuple[float, float]:
    """(this process, its finished children) user + system CPU seconds."""
    own, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, ch.ru_utime + ch.ru_stime


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ict", type=Path, help="ICT-FaceKit FaceXModel folder or its .tar.xz")
    p.add_argument("-n", type=int, default=2000,
                   help="images per measurement (each run also pays a fixed ~0.1 s: config and provenance "
                        "files, shard creation, fsync; printed as 'fixed cost per run')")
    p.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config override for every run, e.g. render.triangles_per_px=0 (full mesh)")
    p.add_argument("--models", nargs="+", choices=["default", "ict"], default=["default", "ict"],
                   help="which models to run (ict needs --ict)")
    p.add_argument("--repeat", type=int, default=1,
                   help="runs per row, in round robin over the rows; the row shows the fastest (on a "
                        "shared VM the slower runs are the machine, see the CPU columns) and the median img/s")
    args = p.parse_args()
    if "ict" in args.models and not args.ict:
        args.models = [m for m in args.models if m != "ict"]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        models = {}
        if "default" in args.models:
            models["default"] = "default"
        if "ict" in args.models:
            models["ict"] = str(_ict_model(args.ict, work))
        name0 = next(iter(models))
        fixed = _fixed_cost(models[name0], args.sizes[0], work, args.set)
        print(f"fixed cost per run ({name0}, {args.sizes[0]} px, n=1): {fixed:.3f} s; "
              f"each row's run pays it once, over -n {args.n}")
        print(f"{'model':8} {'px':>4} {'occl':>5} {'workers':>7} {'img/s':>8} {'img/s/worker':>13} {'peak RSS MB':>12} "
              f"{'triangles':>9} {'worker CPU ms/img':>17} {'parent CPU ms/img':>17}"
              + (f" {'median img/s':>12}" if args.repeat > 1 else ""))
        rows = [(name, size, occ, w) for name in models for size in args.sizes for occ in (False, True)
                for w in args.workers]
        runs: dict[tuple, list] = {row: [] for row in rows}
        repeats = max(1, args.repeat)
        for k in range(repeats):
            # Round robin: each row's repeats fall in different minutes (this VM's speed drifts).
            for row in rows:
                name, size, occ, w = row
                runs[row].append(_run(models[name], size, occ, w, args.n, work, args.set))
                if k == repeats - 1:
                    rate, _, tris, wcpu, pcpu = max(runs[row])
                    rss = runs[row][0][1]  # peak RSS only grows in a process: the first pass's is this row's
                    median = f" {statistics.median(r[0] for r in runs[row]):12.1f}" if repeats > 1 else ""
                    print(f"{name:8} {size:4d} {str(occ):>5} {w:7d} {rate:8.1f} {rate / w:13.1f} {rss:12.0f} "
                          f"{tris:9d} {wcpu:17.2f} {pcpu:17.2f}{median}", flush=True)


if __name__ == "__main__":
    main()
