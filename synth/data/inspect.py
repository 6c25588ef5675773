"""``synth data inspect``: what a dataset of any supported format holds, and a contact sheet.

Works on every reader in ``synth.data.readers`` and on synthetic HDF5 (kind
``synthetic``), through the common ``FaceSample`` record, so the drawing shows exactly
what training will see: landmarks (green visible or visibility unknown, red hidden;
unlabelled points are not drawn) and pose axes (orthographic, at the face centre) where the
pose is fully known, with the known angles printed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synth.contact_sheet import draw_sample
from synth.data.readers import READERS, open_dataset
from synth.data.record import FaceSample
from synth.errors import UserError

__all__ = ["open_any", "describe", "sample_sheet", "KINDS"]

KINDS = ("synthetic", *sorted(READERS))


def open_any(kind: str, path: str | Path, **options):
    """A dataset of ``kind`` (``synthetic`` or a reader name) at ``path``."""
    if kind == "synthetic":
        from synth.data.synthetic import SyntheticDataset

        return SyntheticDataset(path, **options)
    if kind not in READERS:
        raise UserError(f"unknown dataset kind {kind!r}; expected one of {', '.join(KINDS)}")
    return open_dataset(kind, path, **options)


def _pick(n_total: int, n: int, seed: int) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).choice(n_total, size=min(n, n_total), replace=False))


def describe(ds, n_stats: int = 500, seed: int = 0) -> str:
    """Counts and label coverage over up to ``n_stats`` random samples (reads their images)."""
    n = len(ds)
    if n == 0:
        raise UserError("the dataset holds no samples")
    idx = _pick(n, n_stats, seed)
    samples: list[FaceSample] = [ds[int(i)] for i in idx]
    lmk = np.array([s.landmark_valid.sum() for s in samples])
    pose = np.array([s.euler_valid for s in samples])
    vis = np.array([s.visible_valid.any() for s in samples])
    shapes = sorted({s.image.shape for s in samples})
    lines = [
        f"samples        {n:,} (statistics over {len(samples)})",
        f"sources        {', '.join(sorted({s.source for s in samples}))}",
        f"image shapes   {', '.join('x'.join(map(str, sh)) for sh in shapes[:5])}{' ...' if len(shapes) > 5 else ''}",
        f"landmarks      {', '.join(sorted({s.convention for s in samples}))} convention; labelled points per sample "
        f"min {lmk.min()} / median {int(np.median(lmk))} / max {lmk.max()}",
        f"visibility     known in {vis.mean():.0%} of samples",
        f"pose known     yaw {pose[:, 0].mean():.0%}, pitch {pose[:, 1].mean():.0%}, roll {pose[:, 2].mean():.0%}",
    ]
    yaw = np.array([s.euler_deg[0] for s in samples if s.euler_valid[0]])
    if yaw.size:
        hist, edges = np.histogram(np.abs(yaw), bins=[0, 30, 60, 90, 180])
        lines.append("|yaw| bins     " + ", ".join(f"{int(a)}-{int(b)}: {c}" for a, b, c in zip(edges[:-1], edges[1:], hist)))
    return "\n".join(lines)


def sample_sheet(ds, n: int = 24, columns: int = 6, seed: int = 0, tile: int = 192) -> np.ndarray:
    """Contact sheet of ``n`` random samples with their labels drawn: (rows*tile, columns*tile, 3) uint8."""
    import cv2

    if len(ds) == 0:
        raise UserError("the dataset holds no samples")
    tiles = []
    for i in _pick(len(ds), n, seed):
        s: FaceSample = ds[int(i)]
        scale = tile / max(s.image.shape[:2])
        img = cv2.resize(s.image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        lmk = (s.landmarks + 0.5) * scale - 0.5
        labels = {"lmk2d": lmk, "lmk_valid": s.landmark_valid, "visible": s.visible | ~s.visible_valid,
                  "euler_deg": s.euler_deg, "euler_valid": s.euler_valid}
        if s.rotation_valid:
            labels["rotation"] = s.rotation
        drawn = draw_sample(img, labels)
        canvas = np.zeros((tile, tile, 3), np.uint8)
        canvas[: drawn.shape[0], : drawn.shape[1]] = drawn[:tile, :tile]
        tiles.append(canvas)
    while len(tiles) % columns:
        tiles.append(np.zeros((tile, tile, 3), np.uint8))
    return np.concatenate([np.concatenate(tiles[r : r + columns], axis=1) for r in range(0, len(tiles), columns)], axis=0)
