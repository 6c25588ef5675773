"""Per-step learning rate: linear warm-up then cosine decay (lightly's ``cosine_warmup_schedule``).

The schedule is a pure function of the optimizer step, so it needs no state in a
checkpoint beyond the step itself.
"""

from __future__ import annotations

from lightly.utils.scheduler import cosine_warmup_schedule

__all__ = ["lr_at"]


def lr_at(step: int, total_steps: int, lr: float, warmup_steps: int = 0, min_lr_ratio: float = 0.0) -> float:
    """Learning rate of optimizer step ``step`` (0-based) of ``total_steps``.

    Warm-up: ``lr * (step + 1) / warmup_steps`` for ``step < warmup_steps``; then a half
    cosine from ``lr`` to ``lr * min_lr_ratio`` reached at the last step.
    """
    warmup = min(int(warmup_steps), int(total_steps))
    return float(cosine_warmup_schedule(step, total_steps, lr, lr * min_lr_ratio, warmup, 0.0))
