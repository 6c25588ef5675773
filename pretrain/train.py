"""The pretraining loop: one function, ``run(cfg)``, from a resolved config to ``backbone.pt``.

Per optimizer step t (0-based, ``total`` steps):

1. lr = ``schedule.lr_at(t)`` (warm-up + cosine) is set on every param group;
2. ``accumulate`` micro-batches: forward under autocast, ``backward(loss / accumulate)``
   (DDP gradient all-reduce only on the last one, ``no_sync`` before);
3. optional global-norm clipping (after unscaling), optimizer step, GradScaler update;
4. ``method.after_optimizer_step(t, total)`` (momentum encoders);
5. a metrics row every ``log_every`` steps, ``checkpoints/last.pt`` every
   ``checkpoint_every`` steps, a probe every ``probe.every`` steps.

Resume (``resume=True``): ``checkpoints/last.pt`` holds the step, the method's state (incl.
momentum encoders and MoCo's queue), optimizer, GradScaler, the RNG states (python, numpy,
torch) and the config. The data stream is a function of (seed, step) (``pretrain.data``)
and the schedule of the step, so a resumed run repeats the uninterrupted run's arithmetic:
identical weights on CPU (any ``num_workers``; the views do not depend on the worker).

AMP (``amp``): ``auto`` = bf16 autocast on a CPU with native bf16 (AVX512-BF16 / AMX,
``cpu_has_fast_bf16``; float32 on other CPUs, where bf16 autocast is emulated and measured
~4x *slower* on an AVX2 machine), bf16 on CUDA when supported, else fp16 + GradScaler;
``bf16`` forces bf16 autocast; ``off`` = float32. Losses are computed in float32.

DDP: under ``torchrun`` each rank takes ``batch_size / world_size`` images per step
(``pretrain.data.MicroBatchSampler``), the method is wrapped in
``DistributedDataParallel``, rank 0 writes every output. Batch norm statistics are per
rank (per micro-batch); on CUDA ``SyncBatchNorm`` is not used either, so that R ranks
equal one process with R x accumulate micro-batches (exactly so for BYOL, whose loss is
per sample; SimCLR/MoCo gather negatives across ranks, which accumulation cannot).
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pretrain.backbones import init_backbone
from pretrain.backbone_io import save_backbone
from pretrain.checkpoint import atomic_save, load_checkpoint, rng_state, set_rng_state
from pretrain.config import PretrainConfig, config_from_yaml_text
from pretrain.data import build_loader, open_images
from pretrain.distributed import DistInfo, init_distributed, shutdown_distributed
from pretrain.methods import create_method
from pretrain.metrics import MetricsLog, plot_loss_curve, read_metrics
from pretrain.schedule import lr_at
from synth.config import dump_yaml, to_dict
from synth.errors import UserError

__all__ = ["run", "total_steps", "amp_policy", "cpu_has_fast_bf16", "build_optimizer", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "facesynth-pretrain-ckpt/1"
#: config keys that may change between an interrupted run and its resumption
_RESUMABLE_CHANGES = {"num_workers", "out_dir", "log_every", "checkpoint_every", "probe", "device"}


def total_steps(cfg: PretrainConfig, num_images: int) -> int:
    """Optimizer steps of the run: ``steps``, or ceil(epochs * num_images / batch_size)."""
    if cfg.steps is not None:
        return int(cfg.steps)
    return max(1, math.ceil(cfg.epochs * num_images / cfg.batch_size))


def cpu_has_fast_bf16() -> bool:
    """Whether oneDNN has native bf16 kernels on this CPU (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - builds without oneDNN
        return False


def amp_policy(amp: str, device: torch.device) -> tuple[bool, torch.dtype, bool]:
    """(autocast enabled, autocast dtype, use GradScaler) for ``amp`` on ``device`` (see the module doc)."""
    if amp == "off":
        return False, torch.float32, False
    if device.type == "cpu":
        if amp == "fp16":
            raise UserError("amp: fp16 needs CUDA; use bf16 or off on CPU")
        if amp == "auto" and not cpu_has_fast_bf16():
            return False, torch.float32, False
        return True, torch.bfloat16, False
    if amp == "bf16" or (amp == "auto" and torch.cuda.is_bf16_supported()):
        return True, torch.bfloat16, False
    return True, torch.float16, True


def build_optimizer(model: torch.nn.Module, name: str, lr: float, weight_decay: float, momentum: float) -> torch.optim.Optimizer:
    """AdamW or LARS over the trainable parameters; biases and norm weights (1-d) get no weight decay."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    if name == "lars":
        from lightly.utils.lars import LARS

        return LARS(groups, lr=lr, momentum=momentum)
    raise UserError(f"optim.name: unknown optimizer {name!r}; expected adamw or lars")


def _check_resume_config(saved: PretrainConfig, cfg: PretrainConfig) -> None:
    a, b = to_dict(saved), to_dict(cfg)
    for key in a:
        if key not in _RESUMABLE_CHANGES and a[key] != b.get(key):
            raise UserError(f"--resume: config key {key!r} differs from the checkpoint's ({a[key]!r} -> {b.get(key)!r}); "
                            f"only {sorted(_RESUMABLE_CHANGES)} may change")


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _seed_globals(seed: int) -> None:
    """The run's entry point seeds the global RNGs once (model init, stochastic depth, MoCo's queue init)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def run(cfg: PretrainConfig, *, resume: bool = False, progress: bool = True, stop_after: int | None = None) -> Path:
    """Train ``cfg``; returns the output folder (with ``backbone.pt`` once the last step is done).

    Args:
        resume: continue from ``out_dir/checkpoints/last.pt``.
        progress: show a tqdm bar (rank 0).
        stop_after: stop (with a checkpoint) after this many steps of this invocation, as a
            time-limited job would; resume later with ``resume=True``.
    """
    info = init_distributed(cfg.device)
    try:
        return _run(cfg, info, resume=resume, progress=progress, stop_after=stop_after)
    finally:
        shutdown_distributed()


def _run(cfg: PretrainConfig, info: DistInfo, *, resume: bool, progress: bool, stop_after: int | None) -> Path:
    out = Path(cfg.out_dir)
    ckpt_path = out / "checkpoints" / "last.pt"
    ckpt: dict[str, Any] | None = None
    if resume:
        ckpt = load_checkpoint(ckpt_path)
        if ckpt.get("format") != CHECKPOINT_FORMAT:
            raise UserError(f"{ckpt_path}: not a pretrain checkpoint (format {ckpt.get('format')!r})")
        _check_resume_config(config_from_yaml_text(ckpt["config"]), cfg)
    elif ckpt_path.exists():
        raise UserError(f"{out}: already holds a run (checkpoints/last.pt); pass --resume or choose another out_dir")
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        from synth.provenance import versions

        _write_text_atomic(out / "config.yaml", dump_yaml(cfg))
        _write_text_atomic(out / "versions.json", json.dumps(versions(), indent=2) + "\n")

    _seed_globals(cfg.seed)
    device = info.device
    backbone = init_backbone(cfg.backbone, cfg.seed)
    method = create_method(cfg.method, backbone, **cfg.method_args).to(device).train()
    num_images = sum(len(x) for x in open_images(cfg.data))
    total = total_steps(cfg, num_images)
    opt = build_optimizer(method, cfg.optim.name, cfg.optim.lr, cfg.optim.weight_decay, cfg.optim.momentum)
    use_autocast, amp_dtype, use_scaler = amp_policy(cfg.amp, device)
    scaler = torch.amp.GradScaler(device.type, enabled=use_scaler)
    start = 0
    if ckpt is not None:
        method.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        scaler.load_state_dict(ckpt["scaler"])
        start = int(ckpt["step"])
        set_rng_state(ckpt["rng"])  # last: nothing below draws from the global RNGs before training
    model: torch.nn.Module = method
    if info.distributed:
        from torch.nn.parallel import DistributedDataParallel as DDP

        model = DDP(method, device_ids=[device.index] if device.type == "cuda" else None)

    accumulate = cfg.optim.accumulate
    loader = build_loader(cfg.data, cfg.image_size, cfg.views, batch_size=cfg.batch_size, seed=cfg.seed,
                          start_step=start, total_steps=total, rank=info.rank, world_size=info.world_size,
                          accumulate=accumulate, num_workers=cfg.num_workers, pin_memory=device.type == "cuda")
    log = MetricsLog(out / "metrics.jsonl", tensorboard_dir=out / "tensorboard" if info.is_main else None)
    if info.is_main:
        log.truncate_after(start) if resume else log.path.write_text("")
    end = total if stop_after is None else min(total, start + int(stop_after))
    bar = None
    if progress and info.is_main:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=start, desc=f"pretrain {cfg.method}/{cfg.backbone}", unit="step")

    it = iter(loader)
    interval_loss, interval_n, t_interval = 0.0, 0, time.perf_counter()
    for step in range(start, end):
        lr = lr_at(step, total, cfg.optim.lr, cfg.optim.warmup_steps, cfg.optim.min_lr_ratio)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        step_loss = torch.zeros((), device=device)
        for a in range(accumulate):
            x0, x1 = next(it)
            x0, x1 = x0.to(device, non_blocking=True), x1.to(device, non_blocking=True)
            sync = contextlib.nullcontext() if not info.distributed or a == accumulate - 1 else model.no_sync()
            with sync:
                with torch.autocast(device.type, dtype=amp_dtype, enabled=use_autocast):
                    loss = model((x0, x1))
                scaler.scale(loss / accumulate).backward()
            step_loss += loss.detach().float() / accumulate
        if cfg.optim.grad_clip_norm > 0:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(method.parameters(), cfg.optim.grad_clip_norm)
        scaler.step(opt)
        scaler.update()
        method.after_optimizer_step(step, total)
        done = step + 1

        interval_loss += float(step_loss)
        interval_n += 1
        is_ckpt = done % cfg.checkpoint_every == 0 or done == end
        if done % cfg.log_every == 0 or is_ckpt:
            mean_loss = torch.tensor(interval_loss / interval_n, dtype=torch.float64)
            if info.distributed:
                torch.distributed.all_reduce(mean_loss)
                mean_loss /= info.world_size
            dt = time.perf_counter() - t_interval
            row = {"step": done, "loss": float(mean_loss), "lr": lr,
                   "images_per_s": interval_n * cfg.batch_size / max(dt, 1e-9), "time": time.time()}
            if info.is_main:
                log.write(row)
                if bar is not None:
                    bar.set_postfix(loss=f"{row['loss']:.4f}", img_s=f"{row['images_per_s']:.0f}")
            interval_loss, interval_n, t_interval = 0.0, 0, time.perf_counter()
        if is_ckpt and info.is_main:
            atomic_save({"format": CHECKPOINT_FORMAT, "step": done, "total_steps": total,
                         "model": method.state_dict(), "optimizer": opt.state_dict(), "scaler": scaler.state_dict(),
                         "rng": rng_state(), "config": dump_yaml(cfg)}, ckpt_path)
        if cfg.probe is not None and cfg.probe.every and done % cfg.probe.every == 0 and done < total and info.is_main:
            _probe(cfg, method.backbone, out, done, device)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    log.close()
    del it

    if end == total and info.is_main:
        meta = {"backbone": cfg.backbone, "method": cfg.method, "image_size": cfg.image_size,
                "mean": list(cfg.views.mean), "std": list(cfg.views.std), "step": total, "config": dump_yaml(cfg)}
        save_backbone(out / "backbone.pt", method.backbone, meta)
        rows = read_metrics(log.path)
        plot_loss_curve([r["step"] for r in rows], [r["loss"] for r in rows], out / "loss.png")
        if cfg.probe is not None:
            _probe(cfg, method.backbone, out, total, device)
    if info.distributed:
        torch.distributed.barrier()
    return out


def _probe(cfg: PretrainConfig, backbone: torch.nn.Module, out: Path, step: int, device: torch.device) -> None:
    """Run the probes on the current backbone (and a random-init baseline) -> probe.json (history kept)."""
    from pretrain.probe import run_probe

    was_training = backbone.training
    result = run_probe(backbone, cfg.probe, image_size=cfg.image_size, mean=cfg.views.mean, std=cfg.views.std,
                       baseline=init_backbone(cfg.backbone, cfg.seed), device=device)
    backbone.train(was_training)
    path = out / "probe.json"
    history = json.loads(path.read_text()) if path.is_file() else {"history": []}
    history["history"] = [h for h in history.get("history", []) if h["step"] < step] + [{"step": step, **result}]
    history["latest"] = {"step": step, **result}
    _write_text_atomic(path, json.dumps(history, indent=2) + "\n")
