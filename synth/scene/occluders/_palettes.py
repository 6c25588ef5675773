"""Colour palettes for occluders (RGB, 0-255) and samplers with jitter."""

from __future__ import annotations

import numpy as np

from synth.scene.textures import random_colours

#: Skin tones from very light to very dark (roughly Fitzpatrick I-VI and between).
SKIN_RGB = np.array([
    (255, 224, 196), (241, 194, 167), (234, 189, 157), (224, 172, 138), (205, 150, 115),
    (198, 134, 103), (161, 102, 72), (141, 85, 60), (120, 74, 50), (87, 55, 38),
], np.float32)

#: Hair colours: black, browns, auburn, blonde, red, grey/white.
HAIR_RGB = np.array([
    (20, 17, 15), (40, 30, 25), (59, 42, 32), (86, 60, 42), (120, 85, 55), (165, 120, 75),
    (200, 160, 105), (225, 195, 140), (140, 60, 30), (170, 170, 165), (225, 222, 215),
], np.float32)


def jitter(rng: np.random.Generator, rgb: np.ndarray, amount: float) -> np.ndarray:
    """``rgb`` (3,) scaled by a common brightness factor and per-channel noise; clipped."""
    f = rng.uniform(1.0 - amount, 1.0 + amount)
    return np.clip(rgb * f * rng.uniform(1.0 - amount / 3, 1.0 + amount / 3, 3), 0.0, 255.0)


def skin(rng: np.random.Generator) -> np.ndarray:
    return jitter(rng, SKIN_RGB[rng.integers(len(SKIN_RGB))], 0.08)


def hair(rng: np.random.Generator) -> np.ndarray:
    return jitter(rng, HAIR_RGB[rng.integers(len(HAIR_RGB))], 0.12)


def any_colour(rng: np.random.Generator, sat: tuple[float, float] = (0.0, 0.9),
               val: tuple[float, float] = (0.1, 0.95)) -> np.ndarray:
    return random_colours(rng, 1, sat, val)[0].astype(np.float64)
