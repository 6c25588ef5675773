"""``synth generate``: a resolved config -> sharded HDF5 dataset, with its provenance.

Writes into ``out_dir``: the shards (``synth.shards``), ``config.yaml`` (the resolved
config) and ``versions.json`` (package versions), before any shard, so an interrupted
run can be resumed with ``--resume`` and inspected.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from synth.config import dump_yaml
from synth.model_spec import open_model, resolve_model_path
from synth.errors import UserError
from synth.gen_config import GeneratorConfig
from synth.model_io import model_checksum
from synth.morphable import REGION_NAMES
from synth.provenance import versions
from synth.sample import BLEND_GROUP, SampleMaker
from synth.scene.occluders import OCCLUDER_KINDS
from synth.schema import ImageCodec
from synth.shards import write_shards

__all__ = ["generate"]


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def generate(
    cfg: GeneratorConfig,
    out_dir: str | Path,
    num_samples: int,
    *,
    workers: int = 1,
    shard: tuple[int, int] = (0, 1),
    resume: bool = False,
    progress: bool = True,
) -> list[Path]:
    """Generate ``num_samples`` samples of ``cfg`` into ``out_dir``; returns the shards written.

    The same (config, num_samples) gives byte-identical shards for any ``workers`` and any
    ``shard`` split.
    """
    if num_samples < 1:
        raise UserError(f"-n: expected a positive number of samples, got {num_samples}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir}: exists and is not a folder")
    model_path = resolve_model_path(cfg.model)
    model = open_model(cfg.model)
    maker = SampleMaker(cfg, model)
    lod = maker.model  # the level-of-detail model, made once here: forked workers inherit it
    config_text = dump_yaml(cfg)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_text_atomic(out_dir / "config.yaml", config_text)
    _write_text_atomic(out_dir / "versions.json", json.dumps(versions(), indent=2) + "\n")
    codec = ImageCodec(cfg.output.codec, cfg.output.jpeg_quality) if cfg.output.codec == "jpeg" else ImageCodec(cfg.output.codec)
    root_attrs = {
        "config": config_text,
        "model_name": model.name,
        "model_checksum": model_checksum(model_path),
        "seed": cfg.seed,
        "preset": cfg.preset,
        "occluder_kinds": json.dumps(list(OCCLUDER_KINDS)),
        "region_names": json.dumps(list(REGION_NAMES)),
        "render_vertices": lod.num_vertices,  # the level of detail rendered (render.*)
        "render_triangles": lod.num_triangles,
    }
    return write_shards(
        out_dir, num_samples, maker, maker.fields,
        shard_size=cfg.output.shard_size, workers=workers, shard=shard, resume=resume,
        root_attrs=root_attrs, codec=codec, progress=progress, chunk_align=BLEND_GROUP,
    )
