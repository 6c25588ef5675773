"""Shard naming and the split of a dataset into shards; shared by writer, checker and merger.

Convention
----------
A dataset of N samples with shard size S has J = ceil(N / S) shards; shard j (0-based) holds
the samples [j*S, min((j+1)*S, N)) and is named ``shard-{j:05d}-of-{J:05d}.h5``. While it is
being written it is called ``.shard-{j:05d}-of-{J:05d}.h5.partial`` (hidden, same folder) and
renamed only once complete, so a file with a shard name is always a finished shard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from synth.errors import UserError

__all__ = [
    "MAX_SHARDS", "shard_name", "partial_name", "count_shards", "shard_range", "ShardFile",
    "list_shard_files", "first_line",
]

MAX_SHARDS = 99_999
_SHARD_RE = re.compile(r"^shard-(\d{5})-of-(\d{5})\.h5$")
_PARTIAL_RE = re.compile(r"^\.shard-(\d{5})-of-(\d{5})\.h5\.partial$")


def shard_name(j: int, num_shards: int) -> str:
    """File name of finished shard ``j`` of ``num_shards``."""
    return f"shard-{j:05d}-of-{num_shards:05d}.h5"


def partial_name(j: int, num_shards: int) -> str:
    """File name of shard ``j`` while it is being written."""
    return f".{shard_name(j, num_shards)}.partial"


def count_shards(num_samples: int, shard_size: int) -> int:
    """J = ceil(N / S); UserError when the names would not fit 5 digits."""
    num_shards = -(-num_samples // shard_size)
    if num_shards > MAX_SHARDS:
        raise UserError(f"{num_samples} samples in shards of {shard_size} make {num_shards} shards "
                        f"(at most {MAX_SHARDS}); use a larger --shard-size")
    return num_shards


def shard_range(j: int, num_samples: int, shard_size: int) -> range:
    """Global sample indices held by shard ``j``."""
    return range(j * shard_size, min((j + 1) * shard_size, num_samples))


@dataclass(frozen=True)
class ShardFile:
    """A file in a shard folder: finished (``partial=False``) or being written / interrupted."""

    path: Path
    index: int
    num_shards: int
    partial: bool


def list_shard_files(folder: Path) -> list[ShardFile]:
    """Shard-like files in ``folder`` (finished and partial), sorted by (J, j, partial)."""
    out = []
    for p in Path(folder).iterdir():
        for regex, partial in ((_SHARD_RE, False), (_PARTIAL_RE, True)):
            m = regex.match(p.name)
            if m and p.is_file():
                out.append(ShardFile(p, int(m.group(1)), int(m.group(2)), partial))
    return sorted(out, key=lambda s: (s.num_shards, s.index, s.partial))


def first_line(exc: BaseException, limit: int = 160) -> str:
    """First line of an exception message, shortened, for one-line user errors."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."
