"""Mix data sources by ratio, optionally balanced by |yaw|, deterministically and DDP-correct.

Symbols: S sources (the datasets of a ``ConcatDataset``, in order), N_s samples in source s,
E the epoch length (draws over all ranks), R ranks.

The epoch's index stream is a pure function of ``(seed, epoch)`` and the same on every rank:

1. draw counts: ``E_s = ratio_s * E`` rounded by largest remainder, so the counts sum to E
   and the realised ratio is exact over the whole epoch;
2. per source, E_s local indices: uniform sources (no weights, no yaw balance) walk through
   fresh random permutations (every sample once before any repeats); weighted sources are
   drawn with replacement from their per-sample probabilities;
3. the E draws are shuffled together, local indices offset into the ``ConcatDataset``.

Rank r takes positions r, r + R, r + 2R, ... of the stream (like ``DistributedSampler``), so
the ranks' parts are disjoint and together the whole stream. E is rounded up to a multiple of R.

Yaw balance (per source): samples with known yaw fall in bins of |yaw| (edges ``yaw_bins_deg``,
default 0-30, 30-60, 60-90, 90+); the known-yaw share of the source's probability is split
equally between the non-empty bins (within a bin, by the per-sample weights); samples of
unknown yaw (NaN) keep their share.
"""

from __future__ import annotations

from typing import Iterator, Mapping, Sequence

import numpy as np
from torch.utils.data import ConcatDataset, Sampler

__all__ = ["MixingSampler", "yaw_balanced_probs", "largest_remainder_counts"]


def largest_remainder_counts(ratios: np.ndarray, total: int) -> np.ndarray:
    """(S,) int64 counts summing to ``total``, proportional to ``ratios`` (sum > 0), by largest remainder."""
    r = np.asarray(ratios, np.float64)
    exact = r / r.sum() * total
    counts = np.floor(exact).astype(np.int64)
    rest = total - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def yaw_balanced_probs(yaw_deg: np.ndarray, weights: np.ndarray | None = None,
                       yaw_bins_deg: Sequence[float] = (30.0, 60.0, 90.0)) -> np.ndarray:
    """(N,) float64 sampling probabilities with equal mass per |yaw| bin among known yaws.

    Args:
        yaw_deg: (N,) degrees, NaN = unknown.
        weights: (N,) non-negative per-sample weights (default 1).
        yaw_bins_deg: inner bin edges of |yaw|; bins [0, e0), [e0, e1), ..., [e_last, inf).
    """
    yaw = np.asarray(yaw_deg, np.float64)
    w = np.ones(len(yaw)) if weights is None else np.asarray(weights, np.float64).copy()
    if w.shape != yaw.shape:
        raise ValueError(f"weights shape {w.shape} != yaw shape {yaw.shape}")
    total = w.sum()
    if not total > 0:
        raise ValueError("weights must have a positive sum")
    known = np.isfinite(yaw)
    out = np.where(known, 0.0, w / total)
    known_mass = w[known].sum() / total
    bins = np.digitize(np.abs(yaw[known]), np.asarray(yaw_bins_deg, np.float64))
    wk = w[known]
    mass_per_bin = np.bincount(bins, weights=wk, minlength=len(yaw_bins_deg) + 1)
    nonempty = mass_per_bin > 0
    if nonempty.any():
        share = known_mass / nonempty.sum()
        out[known] = share * wk / mass_per_bin[bins]
    return out / out.sum()


def _dist_default(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    if num_replicas is None or rank is None:
        import torch.distributed as dist

        ddp = dist.is_available() and dist.is_initialized()
        num_replicas = num_replicas if num_replicas is not None else (dist.get_world_size() if ddp else 1)
        rank = rank if rank is not None else (dist.get_rank() if ddp else 0)
    if not (isinstance(num_replicas, int) and num_replicas >= 1 and isinstance(rank, int) and 0 <= rank < num_replicas):
        raise ValueError(f"expected num_replicas >= 1 and 0 <= rank < num_replicas, got {num_replicas}, {rank}")
    return num_replicas, rank


class MixingSampler(Sampler[int]):
    """Indices into a ``ConcatDataset`` of named sources, mixed by ratio (see the module doc).

    Args:
        sources: the ``ConcatDataset`` (or the list of source sizes N_s, in its order).
        names: one name per source, in order.
        ratios: name -> share of the draws (normalised; names left out get 0).
        epoch_length: E, draws per epoch over all ranks (rounded up to a multiple of R).
        weights: optional name -> (N_s,) non-negative per-sample weights.
        yaw_deg: optional name -> (N_s,) yaw in degrees (NaN unknown): balance that source by |yaw|.
        yaw_bins_deg: inner edges of the |yaw| bins.
        seed: the stream is a function of (seed, epoch).
        num_replicas, rank: DDP world size and this rank (default: from ``torch.distributed``
            if initialised, else 1 and 0).

    Call ``set_epoch(e)`` before each epoch (as with ``DistributedSampler``).
    """

    def __init__(self, sources: ConcatDataset | Sequence[int], names: Sequence[str], ratios: Mapping[str, float],
                 epoch_length: int, *, weights: Mapping[str, np.ndarray] | None = None,
                 yaw_deg: Mapping[str, np.ndarray] | None = None, yaw_bins_deg: Sequence[float] = (30.0, 60.0, 90.0),
                 seed: int = 0, num_replicas: int | None = None, rank: int | None = None) -> None:
        sizes = [len(d) for d in sources.datasets] if isinstance(sources, ConcatDataset) else [int(n) for n in sources]
        names = list(names)
        if len(names) != len(sizes) or len(set(names)) != len(names):
            raise ValueError(f"need one unique name per source: {len(sizes)} sources, names {names}")
        unknown = sorted(set(ratios) - set(names))
        for m in (weights or {}, yaw_deg or {}):
            unknown += sorted(set(m) - set(names))
        if unknown:
            raise ValueError(f"unknown source name(s) {unknown}; sources are {names}")
        r = np.array([float(ratios.get(n, 0.0)) for n in names])
        if (r < 0).any() or not r.sum() > 0:
            raise ValueError(f"ratios must be >= 0 with a positive sum, got {dict(ratios)}")
        empty = [n for n, size, x in zip(names, sizes, r) if x > 0 and size == 0]
        if empty:
            raise ValueError(f"source(s) {empty} have a positive ratio but no samples")
        if int(epoch_length) < 1:
            raise ValueError(f"epoch_length must be >= 1, got {epoch_length}")
        self.num_replicas, self.rank = _dist_default(num_replicas, rank)
        self.names, self.sizes = names, sizes
        self.ratios = r / r.sum()
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.num_per_rank = -(-int(epoch_length) // self.num_replicas)
        self.total = self.num_per_rank * self.num_replicas
        self.seed, self.epoch = int(seed), 0
        self.probs: list[np.ndarray | None] = []  # None: uniform
        for n, size in zip(names, sizes):
            w = None if weights is None or n not in weights else np.asarray(weights[n], np.float64)
            if w is not None and (w.shape != (size,) or (w < 0).any() or not w.sum() > 0):
                raise ValueError(f"weights[{n!r}]: expected ({size},) non-negative with a positive sum, got {w.shape}")
            if yaw_deg is not None and n in yaw_deg:
                y = np.asarray(yaw_deg[n], np.float64)
                if y.shape != (size,):
                    raise ValueError(f"yaw_deg[{n!r}]: expected shape ({size},), got {y.shape}")
                self.probs.append(yaw_balanced_probs(y, w, yaw_bins_deg))
            else:
                self.probs.append(None if w is None else w / w.sum())

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def epoch_stream(self) -> np.ndarray:
        """(E,) int64: the whole epoch's indices into the ConcatDataset (all ranks)."""
        rng = np.random.default_rng([self.seed, self.epoch])
        counts = largest_remainder_counts(self.ratios, self.total)
        src = np.repeat(np.arange(len(self.sizes)), counts)
        local = np.empty(self.total, np.int64)
        for s, k in enumerate(counts):
            if k == 0:
                continue
            if self.probs[s] is None:
                reps = -(-k // self.sizes[s])
                draw = np.concatenate([rng.permutation(self.sizes[s]) for _ in range(reps)])[:k]
            else:
                draw = rng.choice(self.sizes[s], size=k, p=self.probs[s])
            local[src == s] = draw
        order = rng.permutation(self.total)
        return (self.offsets[src] + local)[order]

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_stream()[self.rank::self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_per_rank
