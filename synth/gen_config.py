"""The generator's config: one frozen dataclass tree, presets, YAML + overrides.

Resolution order (later wins): dataclass defaults < preset < config file < ``--set``
overrides. The resolved config is written into every shard (root attribute ``config``)
and beside the outputs (``config.yaml``), so a dataset can always be regenerated.

Presets set the pose distribution (``synth.pose.POSE_PRESETS``) and, where it helps, other
sections; ``extreme`` is the default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

from synth.config import ConfigError, apply_overrides, from_dict, load_yaml, merge, to_dict
from synth.errors import UserError
from synth.expression import ShapeConfig
from synth.framing import CameraConfig, CropConfig
from synth.pose import POSE_PRESETS, PoseConfig
from synth.scene.appearance import AppearanceConfig
from synth.scene.background import BackgroundConfig
from synth.scene.degrade import DegradeConfig
from synth.render import ANTIALIAS_MODES
from synth.scene.lighting import LightingConfig
from synth.scene.occluders import OccluderConfig

__all__ = ["GeneratorConfig", "RenderConfig", "OutputConfig", "PRESETS", "resolve_config"]


@dataclass(frozen=True)
class RenderConfig:
    """Rasterization.

    Attributes:
        supersample: S x S sub-samples per pixel (anti-aliasing); 1 = none.
        antialias: where the sub-samples are taken: ``edges`` (only in pixels on a
            silhouette or a depth/colour edge), ``full`` (every pixel) or ``auto`` (the
            faster of the two for the image size: ``edges`` from 112 px); see
            ``synth.render``.
        cull_backfaces: skip triangles facing away from the camera (half the raster work).
            On by default: they can only show through holes in the mesh (the neck opening
            of a face-and-head model seen from below), where either choice is an artefact.
        triangles_per_px: level of detail: the model is decimated to at most
            ``triangles_per_px * image_size**2`` triangles (``synth.decimate``: a vertex
            subset that keeps the labelled vertices, region and mesh borders, so landmark
            labels are those of the full model); 0 renders the full mesh.
        lod_max_error_px: and no decimation step may move the surface by more than this
            many pixels (RMS, in the worst of the model's expression/identity
            extremes, on the tightest crop of ``crop.scale``). With the defaults
            the ICT head's 27k triangles become 8.2k at 128 px (the error bound stops it),
            13k at 256 px (the budget) and stay whole from ~370 px. The budget 0.2 was
            chosen by eye and by PSNR against the full mesh over head pixels at 256 px
            (ICT, 40 samples, median): 0.25 37.9 dB, 0.2 37.1 dB, 0.17 35.9 dB; it renders
            ~15 % faster than 0.25 (benchmarks/RESULTS.md, session 6).
    """

    supersample: int = 2
    antialias: str = "auto"
    cull_backfaces: bool = True
    triangles_per_px: float = 0.2
    lod_max_error_px: float = 0.45

    def __post_init__(self) -> None:
        if not 1 <= self.supersample <= 4:
            raise UserError(f"render.supersample: expected 1..4, got {self.supersample}")
        if self.antialias not in ANTIALIAS_MODES:
            raise UserError(f"render.antialias: expected one of {', '.join(ANTIALIAS_MODES)}, got {self.antialias!r}")
        if not self.triangles_per_px >= 0:
            raise UserError(f"render.triangles_per_px: expected >= 0 (0 = full mesh), got {self.triangles_per_px}")
        if not self.lod_max_error_px > 0:
            raise UserError(f"render.lod_max_error_px: expected > 0, got {self.lod_max_error_px}")


@dataclass(frozen=True)
class OutputConfig:
    """Dataset files.

    Attributes:
        codec: image storage: encoded bytes (``jpeg``, the default: encoded in the workers,
            ~7 kB per 128 px image; ``png``: lossless) or raw pixels (``raw-lzf``,
            ``raw-gzip``; lossless, larger; lzf compresses in the writing process).
        jpeg_quality: 1..100 for ``jpeg``.
        shard_size: samples per shard file.
        save_mask / save_depth: add the segmentation mask / depth map per sample.
    """

    codec: Literal["raw-lzf", "raw-gzip", "jpeg", "png"] = "jpeg"
    jpeg_quality: int = 95
    shard_size: int = 1000
    save_mask: bool = False
    save_depth: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.jpeg_quality <= 100:
            raise UserError(f"output.jpeg_quality: expected 1..100, got {self.jpeg_quality}")
        if self.shard_size < 1:
            raise UserError(f"output.shard_size: expected >= 1, got {self.shard_size}")


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that defines a synthetic dataset (with the sample count and the model file)."""

    seed: int = 0
    model: str = "default"
    preset: str = "extreme"
    shape: ShapeConfig = field(default_factory=ShapeConfig)
    pose: PoseConfig = field(default_factory=PoseConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    crop: CropConfig = field(default_factory=CropConfig)
    appearance: AppearanceConfig = field(default_factory=AppearanceConfig)
    lighting: LightingConfig = field(default_factory=LightingConfig)
    background: BackgroundConfig = field(default_factory=BackgroundConfig)
    occluders: OccluderConfig = field(default_factory=OccluderConfig)
    degrade: DegradeConfig = field(default_factory=DegradeConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def __post_init__(self) -> None:
        if not 0 <= self.seed < 2**63:
            raise UserError(f"seed: expected 0 <= seed < 2**63, got {self.seed}")


def _preset_dict(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise ConfigError(f"preset: unknown preset {name!r}; expected one of {sorted(PRESETS)}")
    return PRESETS[name]


#: preset name -> partial config (nested dict). Pose presets come from ``synth.pose``.
PRESETS: dict[str, dict[str, Any]] = {name: {"pose": to_dict(pose)} for name, pose in POSE_PRESETS.items()}
PRESETS["fullrange"]["crop"] = {"scale": [1.35, 1.7]}  # the back of the head needs room
PRESETS["frontal"]["occluders"] = {}


def resolve_config(
    config_file: str | Path | None = None,
    overrides: Sequence[str] = (),
    preset: str | None = None,
) -> GeneratorConfig:
    """Defaults < preset < file < overrides -> a validated ``GeneratorConfig``.

    The preset is taken from ``preset`` if given, else from the file/overrides' ``preset``
    key, else ``extreme``.
    """
    user: dict[str, Any] = load_yaml(config_file) if config_file else {}
    user = apply_overrides(user, overrides)
    name = preset or user.get("preset") or "extreme"
    if not isinstance(name, str):
        raise ConfigError(f"preset: expected a name, got {name!r}")
    data = merge(_preset_dict(name), user)
    data["preset"] = name
    where = str(config_file) if config_file else "config"
    return from_dict(GeneratorConfig, data, where)
