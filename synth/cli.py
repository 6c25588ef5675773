"""``synth``: the command line of the synthetic-data stage.

Arguments are parsed here only; each subcommand calls a library function with explicit
values. User mistakes exit with status 2 and one line on stderr (``synth.errors``).

    synth model import KIND SRC OUT [-o KEY=VALUE ...]
    synth model info PATH|default
    synth model preview PATH|default OUT.png [--seed S]
    synth generate [--config CFG] [--preset P] [--set KEY=VALUE ...] --out DIR -n N
                   [--workers W] [--shard i/K] [--resume]
    synth merge DIR OUT.h5
    synth check DIR [--deep]
    synth inspect PATH
    synth preview PATH OUT.png [-n 24]
    synth data inspect KIND PATH [--sheet OUT.png]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml

from synth.errors import UserError, run_cli

__all__ = ["main", "build_parser"]


def _parse_options(pairs: Sequence[str]) -> dict[str, object]:
    """``["n_id=50", "parts=[face,eyeballs]"]`` -> ``{"n_id": 50, "parts": ["face", "eyeballs"]}``."""
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"option {pair!r}: expected KEY=VALUE")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as e:
            raise UserError(f"option {key}: cannot parse value {value!r} ({e.__class__.__name__})") from None
    return out


def _cmd_model_import(args: argparse.Namespace) -> int:
    from synth.importers import import_model
    from synth.model_io import save_model

    t0 = time.perf_counter()
    model = import_model(args.kind, Path(args.src), **_parse_options(args.option))
    save_model(model, args.out)
    print(model.summary())
    print(f"wrote {args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _cmd_model_info(args: argparse.Namespace) -> int:
    from synth.model_spec import open_model

    print(open_model(args.model).summary())
    return 0


def _cmd_model_preview(args: argparse.Namespace) -> int:
    from synth.model_spec import open_model
    from synth.preview import preview_sheet, save_png

    model = open_model(args.model)
    sheet = preview_sheet(model, np.random.default_rng(args.seed), n_random=args.n_random, size=args.size)
    print(f"wrote {save_png(args.out, sheet)}")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from synth.gen_config import resolve_config
    from synth.generate import generate
    from synth.shards import parse_shard_spec

    cfg = resolve_config(args.config, args.set, preset=args.preset)
    if args.print_config:
        from synth.config import dump_yaml

        print(dump_yaml(cfg), end="")
        return 0
    if args.out is None or args.n is None:
        raise UserError("generate: --out and -n are required (or --print-config)")
    shard = parse_shard_spec(args.shard) if args.shard else (0, 1)
    t0 = time.perf_counter()
    written = generate(cfg, args.out, args.n, workers=args.workers, shard=shard, resume=args.resume,
                       progress=not args.quiet)
    dt = time.perf_counter() - t0
    print(f"wrote {len(written)} shard(s) to {args.out} in {dt:.1f} s (config: {Path(args.out) / 'config.yaml'})")
    return 0


def _cmd_merge(args: argparse.Namespace) -> int:
    from synth.shards import merge_shards

    print(f"wrote {merge_shards(Path(args.dir), Path(args.out))}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from synth.shards import check_shards

    print(check_shards(Path(args.dir), deep=args.deep))
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from synth.shards import inspect_dataset

    print(inspect_dataset(Path(args.path)))
    return 0


def _cmd_preview(args: argparse.Namespace) -> int:
    from synth.contact_sheet import contact_sheet
    from synth.preview import save_png

    sheet = contact_sheet(args.path, n=args.n, columns=args.columns, seed=args.seed)
    print(f"wrote {save_png(args.out, sheet)}")
    return 0


def _cmd_data_inspect(args: argparse.Namespace) -> int:
    from synth.data.inspect import describe, open_any, sample_sheet
    from synth.preview import save_png

    ds = open_any(args.kind, args.path)
    print(describe(ds, n_stats=args.stats))
    if args.sheet:
        print(f"wrote {save_png(args.sheet, sample_sheet(ds, n=args.n, seed=args.seed))}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``synth`` argument parser (exposed for tests and docs)."""
    p = argparse.ArgumentParser(prog="synth", description="facesynth stage 1: 3DMMs and synthetic labelled faces.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    model = sub.add_parser("model", help="import, inspect and preview 3D morphable models")
    msub = model.add_subparsers(dest="model_command", required=True, metavar="MODEL_COMMAND")
    imp = msub.add_parser("import", help="convert a third-party 3DMM to the facesynth format")
    imp.add_argument("kind", help="source format: ict, bfm2009, bfm2017, flame")
    imp.add_argument("src", help="source file or folder (e.g. ICT-FaceKit's FaceXModel/)")
    imp.add_argument("out", help="output .npz in the facesynth-3dmm format")
    imp.add_argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE",
                     help="importer option, repeatable (e.g. -o n_id=50); see docs/models.md")
    imp.set_defaults(func=_cmd_model_import)
    info = msub.add_parser("info", help="print a model's summary")
    info.add_argument("model", help="a facesynth-3dmm .npz, or 'default' for the built-in head")
    info.set_defaults(func=_cmd_model_info)
    prev = msub.add_parser("preview", help="render the mean and random identities/expressions with landmarks")
    prev.add_argument("model", help="a facesynth-3dmm .npz, or 'default'")
    prev.add_argument("out", help="output PNG")
    prev.add_argument("--seed", type=int, default=0)
    prev.add_argument("--n-random", type=int, default=2, help="random identities and expressions (rows each)")
    prev.add_argument("--size", type=int, default=256, help="tile size in pixels")
    prev.set_defaults(func=_cmd_model_preview)

    gen = sub.add_parser("generate", help="render a labelled synthetic dataset into sharded HDF5")
    gen.add_argument("--config", help="YAML config (see configs/); defaults apply to what it leaves out")
    gen.add_argument("--preset", help="pose preset: extreme (default), fullrange, 300wlp-like, frontal")
    gen.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config value, repeatable (e.g. --set crop.image_size=128)")
    gen.add_argument("--out", help="output folder for the shards")
    gen.add_argument("-n", type=int, help="number of samples in the whole dataset")
    gen.add_argument("--print-config", action="store_true", help="print the resolved config (YAML) and exit")
    gen.add_argument("--workers", type=int, default=1, help="worker processes (output is identical for any number)")
    gen.add_argument("--shard", help="i/K: write only shards j with j %% K == i (for job arrays)")
    gen.add_argument("--resume", action="store_true", help="keep complete shards, redo partial ones")
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(func=_cmd_generate)

    mrg = sub.add_parser("merge", help="one virtual-dataset (VDS) file over all shards of a folder")
    mrg.add_argument("dir")
    mrg.add_argument("out")
    mrg.set_defaults(func=_cmd_merge)
    chk = sub.add_parser("check", help="verify every shard of a folder (reports a corrupt shard by name)")
    chk.add_argument("dir")
    chk.add_argument("--deep", action="store_true", help="read every chunk, not just the first and last")
    chk.set_defaults(func=_cmd_check)
    ins = sub.add_parser("inspect", help="counts and label statistics of a dataset (folder, shard or merged file)")
    ins.add_argument("path")
    ins.set_defaults(func=_cmd_inspect)
    pv = sub.add_parser("preview", help="contact sheet of a dataset with landmarks and pose axes drawn")
    pv.add_argument("path", help="shard folder, shard or merged file")
    pv.add_argument("out", help="output PNG")
    pv.add_argument("-n", type=int, default=24, help="samples to draw")
    pv.add_argument("--columns", type=int, default=6)
    pv.add_argument("--seed", type=int, default=0)
    pv.set_defaults(func=_cmd_preview)

    data = sub.add_parser("data", help="training datasets of any supported format")
    dsub = data.add_subparsers(dest="data_command", required=True, metavar="DATA_COMMAND")
    di = dsub.add_parser("inspect", help="what a dataset holds, and a contact sheet with its labels")
    di.add_argument("kind", help="synthetic, aflw2000, 300w_lp, ibug, wflw, celeba, aflw_crops, image_folder")
    di.add_argument("path", help="dataset folder (or synthetic shard folder / file)")
    di.add_argument("--sheet", help="write a contact sheet PNG here")
    di.add_argument("-n", type=int, default=24, help="samples on the sheet")
    di.add_argument("--stats", type=int, default=500, help="samples read for the statistics")
    di.add_argument("--seed", type=int, default=0)
    di.set_defaults(func=_cmd_data_inspect)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
