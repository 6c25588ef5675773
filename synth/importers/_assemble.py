"""The last steps shared by the PCA-model importers (BFM, FLAME): frame, regions, contours.

``assemble_model`` takes arrays already converted to mm and project axes and
1. orients triangles counter-clockwise from outside,
2. checks the landmarks (units / axes / wrong mesh),
3. moves the origin to the head centre (``_common.head_origin``),
4. labels regions from geometry (eyeballs or eyes drawn on the surface, lips, brows,
   eyelids, scalp, neck, ears; everything else skin),
5. derives the jawline contour candidates from the jaw landmarks,
and builds the validated ``MorphableModel``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from synth.importers._common import (append_loop_means, check_landmarks, close_neck, contours_from_jaw, head_origin,
                                     orient_outward)
from synth.importers._regions import label_eyeballs, label_eyes_on_surface, label_face_features, label_head_regions
from synth.morphable import MorphableModel, region_id

__all__ = ["assemble_model"]


def assemble_model(
    *,
    where: str,
    verts_mm: np.ndarray,
    triangles: np.ndarray,
    lmk68: np.ndarray,
    id_basis: np.ndarray,
    expr_basis: np.ndarray,
    expr_range: np.ndarray,
    meta: Mapping[str, str],
    id_names: tuple[str, ...] = (),
    expr_names: tuple[str, ...] = (),
    albedo_mean: np.ndarray | None = None,
    albedo_basis: np.ndarray | None = None,
) -> MorphableModel:
    """Build a ``MorphableModel`` from source arrays in mm and project axes.

    Args:
        where: the source path, for error messages.
        verts_mm: (V, 3) mean shape, mm, project axes, source origin.
        triangles: (F, 3) 0-based, any consistent winding.
        lmk68: (68,) 0-based vertex indices, iBUG order.
        id_basis: (Ki, V, 3) mm per N(0, 1) weight. expr_basis: (Ke, V, 3) mm per unit.
        expr_range: (Ke, 2). albedo_mean: (V, 3). albedo_basis: (Ka, V, 3).

    A neck's cut is capped (``close_neck``: one vertex appended per capped hole, so the
    model has V + 1 vertices for a head with a neck, V for a face mask).
    """
    check_landmarks(verts_mm, lmk68, where)
    triangles, neck = close_neck(verts_mm, np.asarray(triangles, dtype=np.int64), lmk68)
    verts_mm, id_basis, expr_basis = (append_loop_means(a, neck, axis)
                                      for a, axis in ((verts_mm, 0), (id_basis, 1), (expr_basis, 1)))
    if albedo_mean is not None:
        albedo_mean = append_loop_means(albedo_mean, neck)
    if albedo_basis is not None:
        albedo_basis = append_loop_means(albedo_basis, neck, axis=1)
    triangles, flipped = orient_outward(verts_mm, triangles)
    origin, rule = head_origin(verts_mm, lmk68)
    verts = verts_mm - origin

    region = np.full(verts.shape[0], region_id("skin"), dtype=np.uint8)
    n_eyeballs = label_eyeballs(verts, triangles, lmk68, region)
    surface = region == region_id("skin")
    if n_eyeballs == 0:
        label_eyes_on_surface(verts, lmk68, region, surface)
    label_face_features(verts, lmk68, region, surface)
    label_head_regions(verts, lmk68, region, surface)
    contour_r, contour_l = contours_from_jaw(verts, lmk68, candidates=surface)

    return MorphableModel(
        mean_shape=verts,
        triangles=triangles,
        id_basis=id_basis,
        expr_basis=expr_basis,
        expr_range=expr_range,
        landmarks68=lmk68,
        contour_right=contour_r,
        contour_left=contour_l,
        vertex_region=region,
        id_names=id_names,
        expr_names=expr_names,
        albedo_mean=albedo_mean,
        albedo_basis=albedo_basis,
        meta={**meta, "origin": f"{rule}; source origin moved by {np.round(-origin, 1).tolist()} mm",
              "triangles_flipped": str(flipped), "contours": "derived from the jaw landmarks"},
    )
