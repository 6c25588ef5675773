"""Training metrics: rows appended to ``metrics.jsonl`` (and to TensorBoard event files under
``tensorboard/`` when the ``tensorboard`` package is installed), and the loss curve drawn as
``loss.png`` (OpenCV)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = ["MetricsLog", "read_metrics", "plot_loss_curve"]


class MetricsLog:
    """Append-only JSON-lines file, one row per log step; ``truncate_after(step)`` for a resumed run.

    With ``tensorboard_dir`` set and ``torch.utils.tensorboard`` importable (it needs the
    optional ``tensorboard`` package), every numeric field of a row is also written as a
    TensorBoard scalar at the row's ``step``; without the package this is silently skipped.
    """

    def __init__(self, path: str | Path, tensorboard_dir: str | Path | None = None) -> None:
        self.path = Path(path)
        self._tb = None
        if tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard not installed: JSONL only
                pass
            else:
                self._tb = SummaryWriter(log_dir=str(tensorboard_dir))

    def truncate_after(self, step: int) -> None:
        """Drop rows with ``step`` greater than ``step`` (written after the checkpoint we resume from)."""
        rows = [r for r in read_metrics(self.path) if r.get("step", 0) <= step]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    def write(self, row: dict[str, Any]) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")
        if self._tb is not None:
            step = int(row.get("step", 0))
            for key, value in row.items():
                if key not in ("step", "time") and isinstance(value, (int, float)) and not isinstance(value, bool):
                    self._tb.add_scalar(f"pretrain/{key}", value, step)
            self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plot_loss_curve(steps: Sequence[float], losses: Sequence[float], path: str | Path, size: tuple[int, int] = (640, 400)) -> Path:
    """Draw loss vs step (axes with min/max labels) as a PNG with OpenCV; returns ``path``."""
    import cv2

    w, h = size
    img = np.full((h, w, 3), 255, np.uint8)
    left, right, top, bottom = 70, 20, 30, 40
    x = np.asarray(steps, np.float64)
    y = np.asarray(losses, np.float64)
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    cv2.rectangle(img, (left, top), (w - right, h - bottom), (0, 0, 0), 1)
    cv2.putText(img, "loss", (5, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    if len(x) >= 1:
        x0, x1 = float(x.min()), float(max(x.max(), x.min() + 1))
        y0, y1 = float(y.min()), float(y.max())
        if y1 - y0 < 1e-12:
            y0, y1 = y0 - 0.5, y1 + 0.5
        px = left + (x - x0) / (x1 - x0) * (w - left - right)
        py = (h - bottom) - (y - y0) / (y1 - y0) * (h - top - bottom)
        pts = np.stack([px, py], 1).round().astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [pts], False, (200, 80, 0), 2, cv2.LINE_AA)
        font = cv2.FONT_HERSHEY_SIMPLEX
        cv2.putText(img, f"{y1:.3g}", (5, top + 5), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(img, f"{y0:.3g}", (5, h - bottom), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(img, f"{x0:.0f}", (left, h - bottom + 18), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(img, f"step {x1:.0f}", (w - right - 90, h - bottom + 18), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    path = Path(path)
    if not cv2.imwrite(str(path), img):
        raise OSError(f"{path}: OpenCV could not write the PNG")
    return path
