"""Unlabelled two-view data: synthetic HDF5 shards and/or real image folders, as one deterministic stream.

Symbols: B global batch (images per optimizer step), R ranks, A gradient-accumulation
micro-batches per rank, b = B / (R A) images per micro-batch, S sources.

The stream (``SampleStream``)
    Each step draws a fixed number of images from each source, ``n_s`` (the weights
    split B by largest remainder). Source s is read in epochs of a random permutation
    (seeded by (seed, s, epoch)); the step's B keys are then shuffled (seeded by (seed,
    step)) so every micro-batch mixes sources. A key is (source, index, position): the
    position q of the image in its source's stream seeds its two views.

    Everything is a function of (seed, step): no sampler state, so resuming at step t
    is ``MicroBatchSampler(start_step=t)``, and the augmentations do not depend on the
    worker, the number of workers or the number of ranks.

Sharding (``MicroBatchSampler``)
    Step t's B keys are cut into R * A chunks of b; rank r takes chunks r*A ... r*A+A-1.
    So one process with A' = R * A micro-batches sees exactly the images (and views)
    that R ranks see together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from pretrain.views import ViewConfig, make_view
from synth.errors import UserError
from synth.threads import single_thread_worker

__all__ = ["DataSource", "open_images", "batch_counts", "SampleStream", "MicroBatchSampler", "TwoViewDataset",
           "build_loader"]

Key = tuple[int, int, int]  # (source, index in source, position in the source's stream)

_PERM, _MIX, _VIEWS = 0, 1, 2  # sub-stream tags for np.random.default_rng([seed, tag, ...])


@dataclass(frozen=True)
class DataSource:
    """One unlabelled source.

    Attributes:
        kind: ``synthetic`` (a shard folder, a shard or a merged file of ``synth generate``;
            only the image is used) or ``folder`` (every image file under ``path``,
            ``synth.data.readers.image_folder``; expected to be face crops).
        path: where it is.
        weight: share of each batch (relative to the other sources' weights).
    """

    kind: Literal["synthetic", "folder"]
    path: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.weight > 0:
            raise ValueError(f"weight: expected > 0, got {self.weight}")


class _Images:
    """Images of one source by index: ``images[i] -> (H, W, 3) uint8 RGB``; holds paths until first read."""

    def __init__(self, src: DataSource) -> None:
        path = Path(src.path)
        if not path.exists():
            raise UserError(f"data source {src.kind} {path}: does not exist")
        if src.kind == "synthetic":
            from synth.data.synthetic import SyntheticDataset

            self._ds = SyntheticDataset(path)
        elif src.kind == "folder":
            from synth.data.readers import open_dataset

            self._ds = open_dataset("image_folder", path)
        else:
            raise UserError(f"data source kind {src.kind!r}: expected synthetic or folder")

    def __len__(self) -> int:
        return len(self._ds)

    def __getitem__(self, i: int) -> np.ndarray:
        ds = self._ds
        return ds.read(i).image if hasattr(ds, "read") else ds[i].image


def open_images(sources: Sequence[DataSource]) -> list[_Images]:
    """One image reader per source (validated: path exists, format readable, not empty)."""
    out = [_Images(s) for s in sources]
    for s, imgs in zip(sources, out):
        if len(imgs) == 0:
            raise UserError(f"data source {s.kind} {s.path}: no images")
    return out


def batch_counts(weights: Sequence[float], batch_size: int) -> list[int]:
    """Images per step from each source: ``batch_size`` split by ``weights`` (largest remainder).

    Raises:
        UserError: a source would get 0 images per batch.
    """
    w = np.asarray(weights, np.float64)
    exact = w / w.sum() * batch_size
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: batch_size - counts.sum()]:
        counts[i] += 1
    if (counts == 0).any():
        i = int(np.argmin(counts))
        raise UserError(f"data[{i}].weight: {weights[i]} gives 0 of {batch_size} images per batch; raise it or the batch size")
    return counts.tolist()


class SampleStream:
    """The keys of every global step: a pure function of (seed, step). See the module doc."""

    def __init__(self, lengths: Sequence[int], counts: Sequence[int], seed: int) -> None:
        self.lengths, self.counts, self.seed = [int(n) for n in lengths], [int(c) for c in counts], int(seed)
        self.batch_size = sum(self.counts)
        self._perms: dict[tuple[int, int], np.ndarray] = {}

    def _perm(self, s: int, epoch: int) -> np.ndarray:
        key = (s, epoch)
        if key not in self._perms:
            if len(self._perms) > 2 * len(self.lengths):
                self._perms.clear()
            self._perms[key] = np.random.default_rng([self.seed, _PERM, s, epoch]).permutation(self.lengths[s])
        return self._perms[key]

    def batch(self, step: int) -> list[Key]:
        """The B keys of global step ``step`` (0-based), in micro-batch order."""
        keys: list[Key] = []
        for s, (n, c) in enumerate(zip(self.lengths, self.counts)):
            for q in range(step * c, step * c + c):
                epoch, r = divmod(q, n)
                keys.append((s, int(self._perm(s, epoch)[r]), q))
        order = np.random.default_rng([self.seed, _MIX, step]).permutation(len(keys))
        return [keys[i] for i in order]


class MicroBatchSampler(Sampler[list[Key]]):
    """Batch sampler: this rank's ``accumulate`` micro-batches of each step in [start_step, total_steps)."""

    def __init__(self, stream: SampleStream, start_step: int, total_steps: int, *, rank: int = 0,
                 world_size: int = 1, accumulate: int = 1) -> None:
        chunks = world_size * accumulate
        if stream.batch_size % chunks:
            raise UserError(f"batch_size {stream.batch_size} is not divisible by ranks x accumulate = "
                            f"{world_size} x {accumulate}")
        self.stream, self.start, self.total = stream, int(start_step), int(total_steps)
        self.rank, self.accumulate, self.chunk = rank, accumulate, stream.batch_size // chunks

    def __len__(self) -> int:
        return max(self.total - self.start, 0) * self.accumulate

    def __iter__(self):
        for t in range(self.start, self.total):
            keys = self.stream.batch(t)
            for a in range(self.accumulate):
                j = self.rank * self.accumulate + a
                yield keys[j * self.chunk:(j + 1) * self.chunk]


class TwoViewDataset(Dataset):
    """``dataset[(s, i, q)] -> (view0, view1)``, each (3, S, S) float32; views seeded by (seed, s, q)."""

    def __init__(self, images: Sequence[_Images], image_size: int, views: ViewConfig, seed: int) -> None:
        self.images, self.image_size, self.views, self.seed = list(images), int(image_size), views, int(seed)

    def __len__(self) -> int:
        return sum(len(x) for x in self.images)

    def __getitem__(self, key: Key) -> tuple[torch.Tensor, torch.Tensor]:
        s, i, q = key
        img = self.images[s][i]
        rng = np.random.default_rng([self.seed, _VIEWS, s, q])
        v0 = make_view(img, self.image_size, self.views, rng)
        v1 = make_view(img, self.image_size, self.views, rng)
        return torch.from_numpy(v0), torch.from_numpy(v1)


def build_loader(sources: Sequence[DataSource], image_size: int, views: ViewConfig, *, batch_size: int, seed: int,
                 start_step: int, total_steps: int, rank: int = 0, world_size: int = 1, accumulate: int = 1,
                 num_workers: int = 0, pin_memory: bool = False) -> DataLoader:
    """The DataLoader of this rank: yields ``(view0, view1)`` micro-batches, each (b, 3, S, S), ``accumulate`` per step.

    It never touches the global torch RNG (its own generator), so creating it on resume
    does not shift any random stream.
    """
    images = open_images(sources)
    stream = SampleStream([len(x) for x in images], batch_counts([s.weight for s in sources], batch_size), seed)
    sampler = MicroBatchSampler(stream, start_step, total_steps, rank=rank, world_size=world_size,
                                accumulate=accumulate)
    gen = torch.Generator().manual_seed(seed)
    return DataLoader(TwoViewDataset(images, image_size, views, seed), batch_sampler=sampler, num_workers=num_workers,
                      pin_memory=pin_memory, generator=gen, persistent_workers=False,
                      prefetch_factor=4 if num_workers > 0 else None,
                      worker_init_fn=single_thread_worker if num_workers > 0 else None)
