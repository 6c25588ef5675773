"""The pretraining config: one frozen dataclass tree, loaded by ``synth.config`` (YAML + ``--set`` overrides).

Resolution: dataclass defaults < config file < ``--set key=value`` overrides. The resolved
config is written beside the outputs (``config.yaml``, with ``versions.json``) and into
every checkpoint. ``resolve_config`` also checks what a typo would otherwise only reveal
minutes later: the method and its options, the backbone, the data paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

from pretrain.data import DataSource
from pretrain.views import ViewConfig
from synth.config import ConfigError, apply_overrides, from_dict, load_yaml
from synth.errors import UserError

__all__ = ["OptimConfig", "ProbeConfig", "PretrainConfig", "DataSource", "ViewConfig", "resolve_config",
           "check_config", "config_from_yaml_text"]


@dataclass(frozen=True)
class OptimConfig:
    """Optimizer and per-step learning-rate schedule.

    Attributes:
        name: ``adamw`` (torch) or ``lars`` (``lightly.utils.lars.LARS``: SGD + layer-wise
            trust ratio, SimCLR/BYOL's large-batch optimizer; biases and norms excluded from
            weight decay and adaptation is applied to all params here).
        lr: peak learning rate (after warm-up).
        weight_decay: decoupled (AdamW) / L2 (LARS).
        momentum: LARS momentum.
        warmup_steps: linear warm-up from ~0 to ``lr`` (per optimizer step).
        min_lr_ratio: the cosine decays to ``lr * min_lr_ratio`` at the last step.
        accumulate: micro-batches per optimizer step (per rank); the global batch is split
            into ranks x accumulate micro-batches.
        grad_clip_norm: clip the global gradient norm (0: off).
    """

    name: Literal["adamw", "lars"] = "adamw"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    momentum: float = 0.9
    warmup_steps: int = 0
    min_lr_ratio: float = 0.0
    accumulate: int = 1
    grad_clip_norm: float = 0.0

    def __post_init__(self) -> None:
        if not self.lr > 0:
            raise ValueError(f"optim.lr: expected > 0, got {self.lr}")
        if self.accumulate < 1:
            raise ValueError(f"optim.accumulate: expected >= 1, got {self.accumulate}")
        if self.warmup_steps < 0 or self.grad_clip_norm < 0 or not 0 <= self.min_lr_ratio <= 1:
            raise ValueError("optim: warmup_steps and grad_clip_norm must be >= 0, min_lr_ratio in [0, 1]")


@dataclass(frozen=True)
class ProbeConfig:
    """Frozen-feature probes on a small labelled synthetic split (``pretrain.probe``).

    Attributes:
        train, test: ``SyntheticDataset`` paths (shard folder or file).
        every: also probe every N optimizer steps (0: only at the end).
        ridge: L2 penalty of the closed-form linear probe (features standardised).
        k: neighbours of the kNN probe (cosine similarity).
        batch_size: feature extraction batch.
    """

    train: str
    test: str
    every: int = 0
    ridge: float = 1.0
    k: int = 10
    batch_size: int = 64


@dataclass(frozen=True)
class PretrainConfig:
    """Everything that defines a pretraining run.

    Attributes:
        seed: model init, data order and augmentations (all derived from it).
        method: a name in ``pretrain.methods.METHODS`` (simclr, moco, byol).
        method_args: the method's options (e.g. ``temperature``, ``hidden_dim``).
        backbone: a name in ``pretrain.backbones.BACKBONES``.
        image_size: input side S in pixels (views are S x S).
        data: the unlabelled sources (at least one).
        views: two-view augmentation (``pretrain.views.ViewConfig``; flip is off by default).
        batch_size: global batch B (images per optimizer step, all ranks together).
        steps / epochs: training length; exactly one must be set (an epoch is
            sum(len(source)) / B steps).
        optim: optimizer, schedule, accumulation, clipping.
        amp: ``auto`` (bf16 autocast on CPUs with native bf16 (AVX512-BF16/AMX), float32
            on other CPUs; bf16 on CUDA with bf16 support, else fp16 with a GradScaler), ``bf16``, ``fp16`` (CUDA only), or ``off`` (float32). YAML reads
            a bare ``off`` as false: false/true are taken as ``off``/``auto``.
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        checkpoint_every: save ``checkpoints/last.pt`` every N steps (and at the end).
        log_every: write a metrics row every N steps.
        num_workers: DataLoader processes per rank (0: load in the training process).
        out_dir: where config.yaml, versions.json, metrics.jsonl, loss.png, checkpoints/,
            backbone.pt and probe.json go.
        probe: optional representation-quality probe.
    """

    seed: int = 0
    method: str = "simclr"
    method_args: dict[str, Any] = field(default_factory=dict)
    backbone: str = "resnet18"
    image_size: int = 112
    data: tuple[DataSource, ...] = ()
    views: ViewConfig = field(default_factory=ViewConfig)
    batch_size: int = 256
    steps: int | None = None
    epochs: float | None = None
    optim: OptimConfig = field(default_factory=OptimConfig)
    amp: Literal["auto", "off", "bf16", "fp16"] | bool = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    checkpoint_every: int = 1000
    log_every: int = 10
    num_workers: int = 4
    out_dir: str = "out/pretrain"
    probe: ProbeConfig | None = None

    def __post_init__(self) -> None:
        if isinstance(self.amp, bool):
            object.__setattr__(self, "amp", "auto" if self.amp else "off")
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed: expected 0 <= seed < 2**63, got {self.seed}")
        if self.image_size < 16:
            raise ValueError(f"image_size: expected >= 16, got {self.image_size}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size: expected >= 2, got {self.batch_size}")
        if (self.steps is None) == (self.epochs is None):
            raise ValueError(f"set exactly one of steps and epochs (got steps={self.steps}, epochs={self.epochs})")
        if (self.steps is not None and self.steps < 1) or (self.epochs is not None and not self.epochs > 0):
            raise ValueError("steps / epochs: expected a positive value")
        if self.checkpoint_every < 1 or self.log_every < 1 or self.num_workers < 0:
            raise ValueError("checkpoint_every, log_every: expected >= 1; num_workers >= 0")


def check_config(cfg: PretrainConfig) -> None:
    """Raise ``UserError`` for an unknown method/option/backbone, no data, or a missing path."""
    from pretrain.backbones import BACKBONES
    from pretrain.methods import check_method

    check_method(cfg.method, cfg.method_args)
    if cfg.backbone not in BACKBONES:
        raise UserError(f"backbone: unknown backbone {cfg.backbone!r}; expected one of {sorted(BACKBONES)}")
    if not cfg.data:
        raise UserError("data: no source; add e.g. data: [{kind: synthetic, path: out/synth}]")
    for i, src in enumerate(cfg.data):
        if not Path(src.path).exists():
            raise UserError(f"data[{i}].path: {src.path} does not exist")
    if cfg.probe is not None:
        for name in ("train", "test"):
            if not Path(getattr(cfg.probe, name)).exists():
                raise UserError(f"probe.{name}: {getattr(cfg.probe, name)} does not exist")
    if cfg.amp == "fp16" and cfg.device == "cpu":
        raise UserError("amp: fp16 needs CUDA; use bf16 or off on CPU")


def resolve_config(config_file: str | Path | None = None, overrides: Sequence[str] = (), *,
                   check: bool = True) -> PretrainConfig:
    """Defaults < file < overrides -> a validated ``PretrainConfig`` (``check``: also ``check_config``)."""
    data: dict[str, Any] = load_yaml(config_file) if config_file else {}
    data = apply_overrides(data, overrides)
    cfg = from_dict(PretrainConfig, data, str(config_file) if config_file else "config")
    if check:
        check_config(cfg)
    return cfg


def config_from_yaml_text(text: str) -> PretrainConfig:
    """The config stored in a checkpoint (no path checks)."""
    import yaml

    try:
        return from_dict(PretrainConfig, yaml.safe_load(text) or {}, "checkpoint config")
    except ConfigError as e:
        raise UserError(f"checkpoint config does not match this version's schema: {e}") from None
