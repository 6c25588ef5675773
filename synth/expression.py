"""Identity and expression weight sampling.

Identity weights are N(0, ``id_std``^2) truncated at ``id_truncation`` standard deviations
(every model's identity basis is scaled for N(0, 1) weights, see ``synth.morphable``).

Expressions are sampled with the failure cases of 300W-LP-trained models in mind: eyes
closed or half closed often, open mouths, asymmetric (one-sided) expressions. Named
modes are found by their ARKit-style names (``eyeBlink_L``, ``jawOpen``, ``..._L/_R``), so
this works for the built-in head and ICT-FaceKit alike; for PCA expression models (no such
names, symmetric ranges like [-3, 3]) weights are normal within the range.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from synth.errors import UserError
from synth.morphable import MorphableModel

__all__ = ["ShapeConfig", "sample_identity", "sample_expression", "EXPRESSION_PRESETS"]


@dataclass(frozen=True)
class ShapeConfig:
    """Identity and expression sampling.

    Attributes:
        n_id: number of identity modes used (0: all the model has).
        id_std: standard deviation of identity weights (1 = the model's population).
        id_truncation: clip |weight| to this many standard deviations.
        p_neutral: probability of the neutral expression (all weights 0).
        p_active: probability of each remaining expression mode being active.
        active_max: weights of active modes are uniform in [0, active_max * range max].
        p_eyes_closed / p_eyes_half / p_wink: both eyes closed (blink 0.9-1), both half
            closed (0.35-0.7), or one eye closed.
        p_mouth_open: jaw open 0.3-1.
        p_asymmetric: scale one side's ``_L``/``_R`` modes by a random factor in [0, 1].
    """

    n_id: int = 0
    id_std: float = 1.0
    id_truncation: float = 3.0
    p_neutral: float = 0.1
    p_active: float = 0.15
    active_max: float = 0.8
    p_eyes_closed: float = 0.15
    p_eyes_half: float = 0.15
    p_wink: float = 0.05
    p_mouth_open: float = 0.3
    p_asymmetric: float = 0.3

    def __post_init__(self) -> None:
        for name in ("p_neutral", "p_active", "p_eyes_closed", "p_eyes_half", "p_wink", "p_mouth_open", "p_asymmetric", "active_max"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise UserError(f"shape.{name}: {v} is not a probability in [0, 1]")
        if self.p_eyes_closed + self.p_eyes_half + self.p_wink > 1.0:
            raise UserError("shape: p_eyes_closed + p_eyes_half + p_wink must be <= 1")
        if self.n_id < 0 or self.id_std < 0 or self.id_truncation <= 0:
            raise UserError(f"shape: n_id >= 0, id_std >= 0, id_truncation > 0 expected, got {self.n_id}, {self.id_std}, {self.id_truncation}")


#: Named expression presets for ``shape`` (merged over the defaults).
EXPRESSION_PRESETS: dict[str, dict[str, float]] = {
    "neutral": {"p_neutral": 1.0},
    "varied": {},
    "eyes-closed-heavy": {"p_eyes_closed": 0.35, "p_eyes_half": 0.25, "p_wink": 0.1},
}


def sample_identity(rng: np.random.Generator, model: MorphableModel, cfg: ShapeConfig) -> np.ndarray:
    """(n_id,) float32 identity weights (N(0,1) units)."""
    n = model.num_id if cfg.n_id == 0 else min(cfg.n_id, model.num_id)
    w = rng.standard_normal(n) * cfg.id_std
    return np.clip(w, -cfg.id_truncation * max(cfg.id_std, 1e-12), cfg.id_truncation * max(cfg.id_std, 1e-12)).astype(np.float32)


@functools.lru_cache(maxsize=256)
def _find(names: tuple[str, ...], *keys: str) -> list[int]:
    low = [n.lower() for n in names]
    return [i for i, n in enumerate(low) if all(k in n for k in keys)]


def sample_expression(rng: np.random.Generator, model: MorphableModel, cfg: ShapeConfig) -> np.ndarray:
    """(Ke,) float32 expression weights within ``model.expr_range``.

    Draws a fixed number of random values whatever the branch taken, so the streams of
    later parameters do not depend on which expression was chosen.
    """
    ke = model.num_expr
    lo, hi = model.expr_range[:, 0], model.expr_range[:, 1]
    u = rng.random((5, max(ke, 1)))
    branch = rng.random(6)
    w = np.zeros(ke, dtype=np.float32)
    if ke == 0 or branch[0] < cfg.p_neutral:
        return w
    symmetric = lo < 0  # PCA-style modes: normal around 0
    active = u[0, :ke] < cfg.p_active
    w = np.where(symmetric, np.clip((u[1, :ke] - 0.5) * 2 * hi * cfg.active_max, lo, hi),
                 lo + u[1, :ke] * (hi - lo) * cfg.active_max)
    w = np.where(active, w, 0.0).astype(np.float32)

    names = model.expr_names
    blink_l, blink_r = _find(names, "blink", "_l"), _find(names, "blink", "_r")
    blink = blink_l + blink_r
    if blink:
        e = branch[1]
        if e < cfg.p_eyes_closed:
            w[blink] = 0.9 + 0.1 * u[2, blink]
        elif e < cfg.p_eyes_closed + cfg.p_eyes_half:
            w[blink] = 0.35 + 0.35 * u[2, blink]
        elif e < cfg.p_eyes_closed + cfg.p_eyes_half + cfg.p_wink:
            side = blink_l if branch[2] < 0.5 else blink_r
            w[blink] = 0.0
            w[side] = 0.9 + 0.1 * u[2, side]
    jaw = _find(names, "jawopen")
    if jaw and branch[3] < cfg.p_mouth_open:
        w[jaw] = 0.3 + 0.7 * u[3, jaw]
    if branch[4] < cfg.p_asymmetric:
        side = "_l" if branch[5] < 0.5 else "_r"
        idx = [i for i in _find(names, side) if names[i].lower().endswith(side) and i not in blink]
        w[idx] *= u[4, idx]
    return np.clip(w, lo, hi).astype(np.float32)
