"""Put the parts together: skin chart, lid and lip patches, eyeballs, teeth and ears.

The skin (chart + lid patches + sacs + lip patch + pouch) is one closed, consistently
oriented surface; eyeballs, teeth and ears are separate closed shells. Every part is built
for the subject's left side or symmetric, so the assembled mesh is an exact mirror image of
itself (``HeadMesh.twin``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.headgen import chart as CH
from synth.headgen import ears as EA
from synth.headgen import eyes as EY
from synth.headgen import mouth as MO
from synth.headgen import teeth as TE
from synth.headgen.mesh import MeshBuilder, orient_like
from synth.headgen.surface import approx_surface, cast_dirs, vertex_spacing
from synth.morphable import region_id

__all__ = ["HeadMesh", "assemble"]


@dataclass(frozen=True)
class HeadMesh:
    """The assembled mean head.

    Attributes:
        verts: (V, 3) float64 mm. triangles: (F, 3) int64, counter-clockwise from outside.
        region: (V,) uint8 index into ``REGION_NAMES``. twin: (V,) int64 mirror vertex.
        groups: part name -> (n,) int64 global indices (``chart``, ``eye_patch_l``, ...).
        eye_patch: the left ``EyePatch`` (the right one is its mirror image).
        mouth_patch: the ``MouthPatch``. chart_loops: loop indices (eye l, eye r, mouth).
        ear_frame: the left ``EarFrame``.
    """

    verts: np.ndarray
    triangles: np.ndarray
    region: np.ndarray
    twin: np.ndarray
    groups: dict[str, np.ndarray]
    eye_patch: EY.EyePatch
    mouth_patch: MO.MouthPatch
    chart_loops: tuple[np.ndarray, ...]
    ear_frame: EA.EarFrame


def _hole_test(p: np.ndarray) -> np.ndarray:
    """True for approximate skin points inside the eye or mouth patch areas."""
    return EY.orbit_contains(p) | MO.perioral_contains(p)


def _patch_tris(tris: np.ndarray, n_ring: int, loop: np.ndarray) -> np.ndarray:
    """Patch-local triangles -> ``MeshBuilder`` convention (boundary -> global, negative)."""
    return np.where(tris < n_ring, -1 - loop[np.minimum(tris, n_ring - 1)], tris - n_ring)


def assemble() -> HeadMesh:
    """Build every part of the mean head and stitch the skin parts along the chart loops."""
    eye_dirs = EY.eye_boundary_dirs()
    mouth_dirs = MO.mouth_boundary_dirs()
    chart = CH.build_chart(approx_surface, vertex_spacing, [eye_dirs], [mouth_dirs], _hole_test)
    b = MeshBuilder()
    chart_verts = cast_dirs(chart.dirs)
    b.add("chart", chart_verts, chart.triangles, "skin", chart.twin)
    loop_l, loop_r, loop_m = chart.loops
    chart_ref = -1 - chart.triangles  # chart triangles in the builder's global-index convention
    # -- lids ----------------------------------------------------------------------------------
    patch = EY.build_eye_patch(chart_verts[loop_l])
    tl = _patch_tris(patch.triangles, EY.N_RING, loop_l)
    tl = orient_like(tl, chart_ref)
    tr = _patch_tris(patch.triangles, EY.N_RING, loop_r)[:, ::-1]
    tr = orient_like(tr, chart_ref)
    b.add_mirrored("eye_patch", patch.verts, tl, "eyelids", tris_right=tr)
    # -- lips and pouch ------------------------------------------------------------------------
    mp = MO.build_mouth_patch(chart_verts[loop_m])
    tm = _patch_tris(mp.triangles, MO.N_RING, loop_m)
    tm = orient_like(tm, chart_ref)
    mir = MO.spoke_mirror()
    twin_m = np.where(mp.spoke >= 0, np.arange(len(mp.spoke)) - mp.spoke + mir[np.maximum(mp.spoke, 0)], np.arange(len(mp.spoke)))
    b.add("mouth_patch", mp.verts, tm, "skin", twin_m)
    # -- eyeballs, teeth, ears -----------------------------------------------------------------
    ev, et, iris = EY.build_eyeball()
    b.add_mirrored("eyeball", ev, et, np.where(iris, region_id("iris"), region_id("sclera")))
    teeth = TE.build_teeth()
    for name, part in (("teeth_upper", teeth.upper), ("teeth_lower", teeth.lower)):
        b.add(name, part.verts, part.triangles, "teeth", part.twin)
    ear = EA.build_ear()
    b.add_mirrored("ear", ear.verts, ear.triangles, "ears")
    return HeadMesh(b.verts, b.triangles, b.region, b.twin, dict(b.groups), patch, mp, chart.loops, ear.frame)
