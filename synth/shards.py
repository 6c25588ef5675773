"""Write a dataset as byte-deterministic HDF5 shards, in parallel, resumably.

Symbols: N samples in the dataset, S shard size, J = ceil(N / S) shards, K jobs.

Guarantees
----------
- Sample i is ``make_sample(i)``; its randomness must come from ``synth.seeding.sample_rng``.
- Workers compute samples (ordered like ``Pool.imap``, with a bounded number of chunks in
  flight) and send each chunk packed, one array per field (``Chunk``); the main process
  writes them in index order, so a shard's bytes are the same for any ``workers`` and any
  ``shard=(i, K)`` split.
- A shard is written as ``.shard-*.h5.partial`` and renamed when complete (root attribute
  ``complete`` written last, file closed and fsynced first). SIGKILL, SIGTERM or Ctrl-C
  leaves at most a ``.partial`` file; ``resume=True`` deletes it and rewrites the shard.

The checker, merger and inspector live in sibling modules and are re-exported here.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import itertools
import multiprocessing as mp
import os
import pickle
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from synth.errors import UserError
from synth.schema import (LIBVER, SCHEMA_VERSION, DatasetSchema, Field, ImageCodec, read_root_attrs,
                          resolve_dataset_attrs, write_attrs, write_vlen_rows)
from synth.shard_check import ShardCheckError, ShardCheckReport, check_shards
from synth.shard_inspect import inspect_dataset
from synth.shard_layout import count_shards, list_shard_files, partial_name, shard_name, shard_range
from synth.shard_merge import merge_shards
from synth.threads import single_thread_worker, single_threaded

__all__ = [
    "write_shards", "merge_shards", "check_shards", "inspect_dataset", "ShardCheckReport",
    "ShardCheckError", "parse_shard_spec",
]


def parse_shard_spec(spec: str) -> tuple[int, int]:
    """``"i/K"`` (CLI ``--shard``) -> (i, K), with 0 <= i < K."""
    try:
        i_str, k_str = str(spec).split("/")
        i, k = int(i_str), int(k_str)
    except ValueError:
        raise UserError(f"--shard expects i/K (e.g. 0/4), got {spec!r}") from None
    _check_job(i, k)
    return i, k


def _check_job(i: Any, k: Any) -> None:
    ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (i, k))
    if not ok or k < 1 or not 0 <= i < k:
        raise UserError(f"--shard {i}/{k}: expected i/K with integers 0 <= i < K")


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise UserError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def write_shards(
    out_dir: Path,
    num_samples: int,
    make_sample: Callable[[int], Mapping[str, np.ndarray]],
    fields: Sequence[Field],
    *,
    shard_size: int = 1000,
    workers: int = 1,
    shard: tuple[int, int] = (0, 1),
    resume: bool = False,
    root_attrs: Mapping[str, Any],
    codec: ImageCodec = ImageCodec(),
    progress: bool = True,
    chunk_align: int = 1,
) -> list[Path]:
    """Generate samples ``0 .. num_samples - 1`` into shard files in ``out_dir``.

    Args:
        out_dir: output folder (created); may already hold shards of the same dataset.
        num_samples: N, the size of the whole dataset (all jobs together).
        make_sample: ``i -> {field name: array of field.shape}``; deterministic in i. For
            ``workers > 1`` without the fork start method it must be picklable (a top-level
            function or callable object).
        fields: the per-sample fields; ``index`` (int64) and ``seed`` (int64) are added.
        shard_size: S, samples per shard.
        workers: processes computing samples (1 = in this process).
        shard: (i, K): write only shards j with j % K == i (job arrays, ``--shard i/K``).
        resume: keep complete shards of this same dataset; rewrite partial/corrupt ones.
        root_attrs: ``config`` (resolved config, YAML/JSON str), ``model_name``,
            ``model_checksum``, ``seed``, optional ``facesynth_version``.
        codec: storage of ``kind="image"`` fields.
        progress: show a tqdm bar (images/s) on stderr.
        chunk_align: with ``workers > 1``, workers get runs of indices from one group
            ``i // chunk_align`` at a time (for a ``make_sample`` that computes fixed groups
            of indices together: each group is then computed by one worker).

    Returns:
        Paths of this job's shards (all complete), in index order.

    Raises:
        UserError: bad arguments, ``out_dir`` is a file, or it holds shards of another dataset.
    """
    num_samples = _positive_int(num_samples, "number of samples")
    shard_size = _positive_int(shard_size, "shard size")
    workers = _positive_int(workers, "workers")
    if not (isinstance(shard, (tuple, list)) and len(shard) == 2):
        raise UserError(f"--shard expects i/K, got {shard!r}")
    _check_job(*shard)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"output folder {out_dir} exists and is not a folder; use a new --out")
    schema = DatasetSchema(tuple(fields), codec)
    dataset_attrs = resolve_dataset_attrs(root_attrs)
    num_shards = count_shards(num_samples, shard_size)
    fingerprint = schema.fingerprint(dataset_attrs, num_samples, shard_size)
    own = [j for j in range(num_shards) if j % shard[1] == shard[0]]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create output folder {out_dir} ({e.strerror})") from None

    todo = _plan(out_dir, num_shards, own, fingerprint, resume)
    indices = (i for j in todo for i in shard_range(j, num_samples, shard_size))
    count = sum(len(shard_range(j, num_samples, shard_size)) for j in todo)
    header = {"schema_version": SCHEMA_VERSION, **dataset_attrs, "num_samples": num_samples,
              "shard_size": shard_size, "num_shards": num_shards}
    task = _SampleTask(make_sample, schema)
    from tqdm import tqdm

    # Pool first (it forks), then the tqdm bar (it may start a monitor thread).
    with _sample_stream(task, indices, count, workers, chunk_align) as samples, _sigterm_as_interrupt(), \
            tqdm(total=count, unit="img", disable=not progress, dynamic_ncols=True,
                 desc=f"{len(todo)} shards") as bar:
        for j in todo:
            bar.set_postfix_str(shard_name(j, num_shards), refresh=False)
            attrs = {**header, "shard_index": j, "first_index": j * shard_size, "fingerprint": fingerprint}
            _write_one_shard(out_dir, j, shard_range(j, num_samples, shard_size), schema, attrs, samples, bar)
    return [out_dir / shard_name(j, num_shards) for j in own]


def _plan(out_dir: Path, num_shards: int, own: list[int], fingerprint: str, resume: bool) -> list[int]:
    """Shards this job must write; refuses a folder holding another dataset; drops own partials."""
    done = set()
    for sf in list_shard_files(out_dir):
        if sf.num_shards != num_shards:
            raise UserError(f"{out_dir} holds {sf.path.name}, from a dataset of {sf.num_shards} shards "
                            f"(this run makes {num_shards}); use --resume with the original settings or a new --out")
        if sf.partial:
            continue
        attrs = _try_read_attrs(sf.path)
        if attrs is not None and attrs.get("fingerprint") != fingerprint:
            raise UserError(f"{sf.path} was written with different settings (config, seed, model, size, "
                            f"codec or fields); use --resume with the original settings or a new --out")
        if resume and sf.index in own and attrs is not None and attrs.get("complete") is True \
                and attrs.get("_rows_ok"):
            done.add(sf.index)
    for sf in list_shard_files(out_dir):
        if sf.partial and sf.index in own:  # left by an interrupted run of this job
            sf.path.unlink(missing_ok=True)
    return [j for j in own if j not in done]


def _try_read_attrs(path: Path) -> dict[str, Any] | None:
    """Root attributes of a finished shard, plus ``_rows_ok`` (dataset lengths match); None if unreadable."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            attrs = read_root_attrs(f)
            n = len(shard_range(attrs["shard_index"], attrs["num_samples"], attrs["shard_size"]))
            attrs["_rows_ok"] = len(f) > 0 and all(len(ds) == n for ds in f.values())
            return attrs
    except (OSError, KeyError, ValueError, TypeError):
        return None


class _SampleTask:
    """Picklable ``i -> (i, encoded sample)``: runs ``make_sample``, checks, encodes images."""

    def __init__(self, make_sample: Callable[[int], Mapping[str, np.ndarray]], schema: DatasetSchema):
        self.make_sample = make_sample
        self.schema = schema

    def __call__(self, i: int) -> tuple[int, dict[str, np.ndarray]]:
        return i, self.schema.encode_sample(self.make_sample(i), i)


_WORKER_TASK: _SampleTask | None = None


def _init_worker(task: _SampleTask, parent_pid: int) -> None:
    """Pool initializer: Ctrl-C goes to the parent only; die with the parent (Linux)."""
    global _WORKER_TASK
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent_pid:  # parent died before prctl took effect
            os._exit(1)
    single_thread_worker()  # the workers are the parallelism (synth.threads)
    _WORKER_TASK = task


#: A run of consecutive samples, one entry per field: (indices (n,) int64, {name: rows}).
#: ``rows`` is one (n, ...) array where every sample's array has the same shape and dtype,
#: else a list of n arrays (encoded images). One array per field instead of one per sample
#: and field: ~16x fewer objects to pickle in the worker, unpickle and buffer in the writer.
Chunk = tuple[np.ndarray, dict[str, Any]]


def _pack(results: list[tuple[int, dict[str, np.ndarray]]]) -> Chunk:
    indices = np.array([i for i, _ in results], dtype=np.int64)
    fields: dict[str, Any] = {}
    for name in results[0][1]:
        values = [sample[name] for _, sample in results]
        first = values[0]
        same = isinstance(first, np.ndarray) and first.dtype != object and all(
            isinstance(v, np.ndarray) and v.shape == first.shape and v.dtype == first.dtype for v in values)
        fields[name] = np.stack(values) if same else values
    return indices, fields


def _compute_chunk(task: _SampleTask, indices: list[int]) -> Chunk:
    return _pack([task(i) for i in indices])


def _run_chunk(indices: list[int]) -> Chunk:
    return _compute_chunk(_WORKER_TASK, indices)  # type: ignore[arg-type]


class _Rows:
    """Takes rows, in index order, from a stream of ``Chunk`` s (a shard may end inside one)."""

    def __init__(self, chunks: Iterator[Chunk]):
        self._chunks = chunks
        self._chunk: Chunk | None = None
        self._pos = 0

    def take(self, n: int) -> Chunk:
        """The next 1 .. n rows (fewer where the current chunk ends)."""
        if self._chunk is None or self._pos == len(self._chunk[0]):
            self._chunk, self._pos = next(self._chunks), 0
        indices, fields = self._chunk
        a, b = self._pos, min(self._pos + n, len(indices))
        self._pos = b
        return indices[a:b], {name: rows[a:b] for name, rows in fields.items()}


def _chunks(indices: Iterable[int], size: int, align: int = 1) -> Iterator[list[int]]:
    """Runs of at most ``size`` indices; with ``align`` > 1 a run also ends where ``i // align``
    changes (one run never holds indices of two groups)."""
    chunk: list[int] = []
    for i in indices:
        if chunk and (len(chunk) == size or (align > 1 and i // align != chunk[-1] // align)):
            yield chunk
            chunk = []
        chunk.append(i)
    if chunk:
        yield chunk


def _ordered(pool: Any, chunks: Iterator[list[int]], max_pending: int) -> Iterator[Chunk]:
    """Like ``pool.imap`` over ``chunks`` (ordered), but with at most ``max_pending`` chunks in
    flight, so fast workers cannot pile up results in memory while the writer catches up."""
    pending = collections.deque(pool.apply_async(_run_chunk, (c,)) for c in itertools.islice(chunks, max_pending))
    while pending:
        done = pending.popleft().get()
        nxt = next(chunks, None)
        if nxt is not None:
            pending.append(pool.apply_async(_run_chunk, (nxt,)))
        yield done


@contextlib.contextmanager
def _sample_stream(task: _SampleTask, indices: Iterable[int], count: int, workers: int, align: int = 1) -> Iterator[_Rows]:
    """Yields the encoded samples of ``indices`` (``count`` of them), in order, as ``_Rows``."""
    workers = min(workers, max(1, count))
    chunksize = align if align > 1 else max(1, min(8, count // (4 * workers)))
    if workers == 1:
        with single_threaded():
            yield _Rows(_compute_chunk(task, c) for c in _chunks(indices, chunksize, align))
        return
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    if method != "fork":
        try:
            pickle.dumps(task)
        except Exception as e:  # noqa: BLE001 - any pickling failure means the same thing
            raise ValueError(f"make_sample must be picklable for workers > 1 with the {method!r} start "
                             f"method (use a top-level function or callable object): {e}") from e
    ctx = mp.get_context(method)
    pool = ctx.Pool(workers, initializer=_init_worker, initargs=(task, os.getpid()))
    ok = False
    try:
        yield _Rows(_ordered(pool, _chunks(indices, chunksize, align), max_pending=4 * workers))
        ok = True
    finally:
        if ok:
            pool.close()
        else:
            pool.terminate()
        pool.join()


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM (e.g. a cluster job limit) into KeyboardInterrupt, so clean-up runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _BlockWriter:
    """Buffers the rows of one dataset and writes them one HDF5 chunk at a time.

    ``direct``: rows arrive as ready (deflated) one-row chunks and go to ``write_direct_chunk``.
    """

    def __init__(self, dset: Any, rows: int, direct: bool = False):
        self.dset = dset
        self.direct = direct
        vlen = dset.dtype.kind == "O"
        self.buf = np.empty(rows, dtype=object) if (vlen or direct) else np.empty((rows, *dset.shape[1:]), dset.dtype)
        self.start = 0
        self.count = 0

    def put_rows(self, rows: Any) -> None:
        """Append rows: an (n, ...) array, or a list of n values (object buffers)."""
        done, n = 0, len(rows)
        while done < n:
            take = min(n - done, len(self.buf) - self.count)
            if self.buf.dtype == object:  # element by element: numpy would broadcast a list of arrays
                for k in range(take):
                    self.buf[self.count + k] = rows[done + k]
            else:
                self.buf[self.count:self.count + take] = rows[done:done + take]
            self.count += take
            done += take
            if self.count == len(self.buf):
                self.flush()

    def flush(self) -> None:
        if not self.count:
            return
        if self.direct:
            zeros = (0,) * (self.dset.ndim - 1)
            for k in range(self.count):
                self.dset.id.write_direct_chunk((self.start + k, *zeros), self.buf[k])
        elif self.buf.dtype == object:
            write_vlen_rows(self.dset, self.start, self.buf[: self.count])
        else:
            self.dset[self.start:self.start + self.count] = self.buf[: self.count]
        self.start += self.count
        self.count = 0


def _write_one_shard(out_dir: Path, j: int, rows: range, schema: DatasetSchema, attrs: dict[str, Any],
                     samples: _Rows, bar: Any) -> Path:
    """Write shard j from the next ``len(rows)`` samples: temp name, ``complete`` last, fsync, rename."""
    import h5py

    num_shards = attrs["num_shards"]
    tmp = out_dir / partial_name(j, num_shards)
    final = out_dir / shard_name(j, num_shards)
    tmp.unlink(missing_ok=True)
    seed = np.int64(attrs["seed"])
    with h5py.File(tmp, "w", libver=LIBVER) as f:
        write_attrs(f, attrs)
        dsets = schema.create_datasets(f, len(rows))
        writers = {name: _BlockWriter(ds, schema.block_rows(field, len(rows)), schema.precompressed(field))
                   for (name, ds), field in zip(dsets.items(), schema.all_fields)}
        pos = rows.start
        while pos < rows.stop:
            got, block = samples.take(rows.stop - pos)
            if not np.array_equal(got, np.arange(pos, pos + len(got))):  # guards the bookkeeping above
                raise RuntimeError(f"sample stream out of order: expected {pos}.., got {got.tolist()}")
            for name, values in block.items():
                writers[name].put_rows(values)
            writers["index"].put_rows(got)
            writers["seed"].put_rows(np.full(len(got), seed))
            bar.update(len(got))
            pos += len(got)
        for w in writers.values():
            w.flush()
        write_attrs(f, {"complete": True})
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, final)
    return final
