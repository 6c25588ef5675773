"""Time per sample of ``sample_albedo``, ``sample_lighting`` and ``shade`` (CPU, one thread).

    python benchmarks/scene_appearance_lighting.py [--model assets/default_head.npz] [--points 30000]

Prints median wall-clock milliseconds over repeats (after a warm-up that compiles the numba
kernels and builds the per-model tables) and the albedo's mean luminance per region.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from synth.model_io import load_model
from synth.scene.appearance import AppearanceConfig, albedo_luminance_stats, sample_albedo
from synth.scene.lighting import sample_lighting, shade


def _median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("assets/default_head.npz"))
    ap.add_argument("--points", type=int, default=30000, help="points shaded per call")
    ap.add_argument("--repeats", type=int, default=300)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    model = load_model(args.model)
    t0 = time.perf_counter()
    sample_albedo(rng, model)
    print(f"model {model.name}: {model.num_vertices:,} vertices; first call (tables + numba load) {1e3 * (time.perf_counter() - t0):.0f} ms")
    cfg_all = AppearanceConfig(p_beard=1.0, p_freckles=1.0)
    print(f"sample_albedo            {_median_ms(lambda: sample_albedo(rng, model), args.repeats):6.3f} ms")
    print(f"sample_albedo (beard+fr) {_median_ms(lambda: sample_albedo(rng, model, cfg_all), args.repeats):6.3f} ms")
    print(f"sample_lighting          {_median_ms(lambda: sample_lighting(rng), args.repeats):6.3f} ms")

    n = rng.standard_normal((args.points, 3)).astype(np.float32)
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    n[:, 2] = np.abs(n[:, 2])  # front-facing, as rasterized
    albedo = rng.random((args.points, 3), dtype=np.float32)
    view = np.float32([0.0, 0.0, 1.0])
    lights = [sample_lighting(rng) for _ in range(20)]
    it = iter(range(10**9))
    print(f"shade {args.points:,} points   {_median_ms(lambda: shade(n, albedo, view, lights[next(it) % 20]), args.repeats):6.3f} ms")

    lum = np.array([list(albedo_luminance_stats(sample_albedo(rng, model)[0], model).values()) for _ in range(200)])
    names = list(albedo_luminance_stats(sample_albedo(rng, model)[0], model))
    print("albedo mean luminance per region over 200 faces (min / median / max):")
    for i, name in enumerate(names):
        print(f"  {name:15s} {lum[:, i].min():.3f} / {np.median(lum[:, i]):.3f} / {lum[:, i].max():.3f}")


if __name__ == "__main__":
    main()
