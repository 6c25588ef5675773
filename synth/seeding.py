"""Per-sample random streams: every sample's randomness derives only from (global seed, index).

Convention
----------
Sample ``i`` of a dataset generated with global seed ``s`` draws all of its randomness from
``sample_rng(s, i)``, a PCG64 generator seeded by

    SeedSequence(entropy=s, spawn_key=(i,))

which is exactly ``SeedSequence(s).spawn(i + 1)[i]`` (NumPy's documented way to derive
independent child streams). Because nothing else feeds the stream, a sample is the same
whichever worker, shard or job computes it, and ``(seed, index)`` stored with a sample is
enough to regenerate it.
"""

from __future__ import annotations

import numpy as np

from synth.errors import UserError

__all__ = ["MAX_SEED", "sample_seed_sequence", "sample_rng", "check_seed"]

#: Seeds are stored as int64 in the dataset, so they must lie in [0, MAX_SEED].
MAX_SEED = 2**63 - 1


def check_seed(global_seed: int) -> int:
    """Validate a user-given global seed; returns it as a Python int.

    Raises:
        UserError: not an integer in [0, 2**63 - 1].
    """
    if isinstance(global_seed, (bool, np.bool_)) or not isinstance(global_seed, (int, np.integer)):
        raise UserError(f"seed must be an integer in [0, {MAX_SEED}], got {global_seed!r}")
    if not 0 <= int(global_seed) <= MAX_SEED:
        raise UserError(f"seed must be an integer in [0, {MAX_SEED}], got {global_seed}")
    return int(global_seed)


def sample_seed_sequence(global_seed: int, index: int) -> np.random.SeedSequence:
    """The seed sequence of sample ``index`` (0-based) in a dataset with ``global_seed``.

    Equal to ``np.random.SeedSequence(global_seed).spawn(index + 1)[index]``.

    Raises:
        UserError: bad ``global_seed`` (see ``check_seed``).
        ValueError: ``index`` is not a non-negative integer.
    """
    seed = check_seed(global_seed)
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)) or index < 0:
        raise ValueError(f"sample index must be a non-negative integer, got {index!r}")
    return np.random.SeedSequence(entropy=seed, spawn_key=(int(index),))


def sample_rng(global_seed: int, index: int) -> np.random.Generator:
    """A PCG64 generator for sample ``index``; see the module docstring for the convention."""
    return np.random.Generator(np.random.PCG64(sample_seed_sequence(global_seed, index)))
