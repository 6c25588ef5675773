"""Verify a shard folder: every shard present, complete, consistent and readable.

A problem is reported by shard name, e.g.
``shard-00002-of-00004.h5: cannot read dataset 'image' (... checksum verification failed)``.
The quick check reads each dataset's first and last rows (and all of ``index``); ``deep``
reads (and for encoded images decodes) every row, so each chunk's fletcher32 checksum is
verified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synth.errors import UserError
from synth.schema import ROOT_ATTRS, SCHEMA_VERSION, decode_image, read_root_attrs
from synth.shard_layout import first_line, list_shard_files, shard_name, shard_range

__all__ = ["ShardStatus", "ShardCheckReport", "ShardCheckError", "check_shards"]

_READ_ROWS = 256


@dataclass
class ShardStatus:
    """Result for one shard: ``problem`` is None when it is fine."""

    name: str
    index: int
    num_rows: int | None = None
    problem: str | None = None


@dataclass
class ShardCheckReport:
    """Outcome of ``check_shards``; ``paths`` are the finished shards in index order."""

    folder: Path
    num_shards: int = 0
    num_samples: int = 0
    shards: list[ShardStatus] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """Multi-line human-readable report."""
        good = sum(s.problem is None for s in self.shards)
        lines = [f"{self.folder}: {good}/{self.num_shards} shards ok, "
                 f"{sum(s.num_rows or 0 for s in self.shards if s.problem is None)}/{self.num_samples} samples"]
        lines += [f"  problem: {p}" for p in self.problems]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    __str__ = summary


class ShardCheckError(UserError):
    """A shard folder failed the check; ``report`` has every problem, the message the first."""

    def __init__(self, report: ShardCheckReport):
        more = len(report.problems) - 1
        super().__init__(report.problems[0] + (f" (and {more} more problem{'s' * (more > 1)})" if more else ""))
        self.report = report


def check_shards(in_dir: Path, deep: bool = False) -> ShardCheckReport:
    """Check every shard of the dataset in ``in_dir``.

    Returns:
        the report, when every shard is present, complete, consistent and readable.

    Raises:
        UserError: ``in_dir`` is not a folder or holds no shards.
        ShardCheckError (a UserError): naming the first bad shard; ``.report`` has all.
    """
    folder = Path(in_dir)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder of shards")
    files = list_shard_files(folder)
    finished = {sf.index: sf for sf in files if not sf.partial}
    partial = {sf.index for sf in files if sf.partial}
    totals = sorted({sf.num_shards for sf in files})
    if not finished:
        hint = " (only interrupted .partial files; rerun with --resume)" if partial else ""
        raise UserError(f"{folder} holds no finished shard-*-of-*.h5 files{hint}")
    report = ShardCheckReport(folder, num_shards=totals[-1])
    if len(totals) > 1:
        report.problems.append(f"{folder} mixes datasets with {totals} shards; keep one per folder")
    num_shards = report.num_shards
    ref: dict[str, Any] | None = None
    for j in range(num_shards):
        name = shard_name(j, num_shards)
        status = ShardStatus(name, j)
        report.shards.append(status)
        if j not in finished:
            status.problem = f"{name} is missing" + (
                " (an interrupted .partial exists; rerun with --resume)" if j in partial else "")
        else:
            if j in partial:
                report.warnings.append(f"stray {finished[j].path.name} partial file next to a finished shard")
            ref = ref or _reference(finished.values())
            status.num_rows, problem = _check_file(finished[j].path, j, num_shards, ref, deep)
            status.problem = problem and f"{name}: {problem}"
            report.paths.append(finished[j].path)
        if status.problem:
            report.problems.append(status.problem)
    if ref is not None:
        report.num_samples = ref["attrs"]["num_samples"]
    if report.problems:
        raise ShardCheckError(report)
    return report


def _reference(files) -> dict[str, Any]:
    """Attributes and dataset layout of the first readable shard, to compare the others to."""
    import h5py

    for sf in files:
        try:
            with h5py.File(sf.path, "r") as f:
                attrs = read_root_attrs(f)
                if attrs.get("complete") is True and "fingerprint" in attrs:
                    layout = {k: (ds.shape[1:], ds.dtype) for k, ds in f.items()}
                    return {"attrs": attrs, "layout": layout}
        except (OSError, KeyError, ValueError, RuntimeError):
            continue
    return {"attrs": {}, "layout": {}}


def _check_file(path: Path, j: int, num_shards: int, ref: dict[str, Any], deep: bool) -> tuple[int | None, str | None]:
    """(rows, problem or None) for one finished shard."""
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        return None, f"cannot open ({first_line(e)})"
    with f:
        try:
            attrs = read_root_attrs(f)
        except (OSError, RuntimeError, ValueError) as e:
            return None, f"cannot read root attributes ({first_line(e)})"
        missing = [k for k in ROOT_ATTRS if k not in attrs]
        if missing:
            return None, f"missing root attribute(s) {missing}; not a facesynth shard?"
        if attrs["schema_version"] != SCHEMA_VERSION:
            return None, f"schema_version {attrs['schema_version']}, this code reads {SCHEMA_VERSION}"
        if attrs["complete"] is not True:
            return None, "not complete (complete attribute is not True)"
        ra = ref["attrs"]
        if ra and attrs["fingerprint"] != ra["fingerprint"]:
            return None, "written with different settings than the other shards (fingerprint differs)"
        if attrs["num_shards"] != num_shards or attrs["shard_index"] != j:
            return None, f"attributes say shard {attrs['shard_index']} of {attrs['num_shards']}"
        rows = shard_range(j, attrs["num_samples"], attrs["shard_size"])
        if attrs["first_index"] != rows.start:
            return None, f"first_index {attrs['first_index']}, expected {rows.start}"
        if ref["layout"] and set(f.keys()) != set(ref["layout"]):
            return None, f"datasets {sorted(f.keys())} differ from the other shards' {sorted(ref['layout'])}"
        for key in f.keys():
            problem = _check_dataset(f, key, rows, deep)
            if problem:
                return None, problem
        return len(rows), None


def _check_dataset(f: Any, key: str, rows: range, deep: bool) -> str | None:
    try:
        ds = f[key]
        if len(ds) != len(rows):
            return f"dataset {key!r} has {len(ds)} rows, expected {len(rows)}"
        encoded = ds.dtype.kind == "O"
        if key == "index":
            got = ds[:]
            if not np.array_equal(got, np.arange(rows.start, rows.stop)):
                return f"dataset 'index' does not hold {rows.start}..{rows.stop - 1} in order"
        elif deep:
            for start in range(0, len(rows), _READ_ROWS):
                block = ds[start:start + _READ_ROWS]
                if encoded:
                    for buf in block:
                        decode_image(buf, ds.attrs["image_shape"])
        else:
            for k in sorted({0, len(rows) - 1}):
                value = ds[k]
                if encoded:
                    decode_image(value, ds.attrs["image_shape"])
    except (OSError, RuntimeError, ValueError, KeyError, TypeError, UserError) as e:
        return f"cannot read dataset {key!r} ({first_line(e)})"
    return None
