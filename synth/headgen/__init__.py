"""Procedural default head: the project's own 3DMM, built from code (no scanned data).

``build_default_head()`` sculpts a mean adult head (``shape``: an implicit skin; ``chart``:
its even triangulation; ``eyes``, ``mouth``, ``teeth``, ``ears``: explicit parts stitched
into it), labels regions and landmarks, and adds identity and expression modes. The result
is deterministic; ``scripts/build_default_head.py`` writes it to ``assets/default_head.npz``.

Pipeline (one module each): shape -> chart/surface -> eyes, mouth, teeth, ears -> assembly
-> regions -> landmarks -> identity, expressions -> ``MorphableModel``.
"""

from __future__ import annotations

import numpy as np

from synth.morphable import MorphableModel

__all__ = ["build_default_head", "MODEL_NAME", "MODEL_VERSION"]

MODEL_NAME = "facesynth-default-head"
#: Bump when the generated geometry changes.
MODEL_VERSION = "1"


def _cylindrical_uv(verts: np.ndarray) -> np.ndarray:
    """(V, 2) float32 in [0, 1]: u = azimuth about the y axis (0.5 in front), v = height."""
    u = np.arctan2(verts[:, 0], verts[:, 2]) / (2.0 * np.pi) + 0.5
    lo, hi = verts[:, 1].min(), verts[:, 1].max()
    return np.column_stack([u, (verts[:, 1] - lo) / (hi - lo)]).astype(np.float32)


def build_default_head() -> MorphableModel:
    """Build the default head model (about 13k vertices, 23 identity and 41 expression modes).

    Returns:
        A ``MorphableModel`` in the project's model frame (mm; x to the subject's left,
        y up, z forward; origin between the ears at eye height), exactly mirror-symmetric.
    """
    from synth.headgen.assembly import assemble
    from synth.headgen.expressions import expression_basis
    from synth.headgen.identity import identity_basis, symmetrize
    from synth.headgen.landmarks import pick_landmarks
    from synth.headgen.regions import assign_regions

    hm = assemble()
    verts = symmetrize(hm.verts, hm.twin)
    region = assign_regions(verts, hm.region, hm.groups, hm.eye_patch, hm.mouth_patch)
    lmk, contour_r, contour_l = pick_landmarks(verts, hm.twin, hm.groups, hm.eye_patch, hm.mouth_patch)
    id_basis, id_names = identity_basis(hm)
    expr_basis, expr_names, expr_range = expression_basis(hm)
    return MorphableModel(
        mean_shape=verts,
        triangles=hm.triangles,
        id_basis=id_basis,
        expr_basis=expr_basis,
        expr_range=expr_range,
        landmarks68=lmk,
        contour_right=contour_r,
        contour_left=contour_l,
        vertex_region=region,
        id_names=id_names,
        expr_names=expr_names,
        uv=_cylindrical_uv(verts),
        meta={
            "name": MODEL_NAME,
            "source": "procedural (scripts/build_default_head.py)",
            "license": "Apache-2.0 (authored by the facesynth project)",
            "version": MODEL_VERSION,
        },
    )
