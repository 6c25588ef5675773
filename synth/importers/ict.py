"""ICT-FaceKit (``FaceXModel/`` folder, MIT licence) -> ``MorphableModel``.

Source format (ICT-FaceKit README; checked on the data):
- ``generic_neutral_mesh.obj``: 26,719 vertices, 26,384 polygons (quads and triangles,
  counter-clockwise from outside) with ``usemtl`` groups (M_Face, M_BackHead,
  M_GumsTongue, M_Teeth, M_Sclera/IrisLeft/Right, M_LacrimalFluid, M_EyeBlend,
  M_EyeOcclusion, M_EyeLashes).
- ``identity000.obj`` ... ``identity099.obj``: the mesh at +1 of each identity mode
  (weights standard normal) -> ``id_basis[k] = identityk - neutral``.
- one OBJ per expression named in ``vertex_indices.json["expressions"]`` (53, ARKit style)
  -> ``expr_basis[k] = expr - neutral``, ``expr_range = [0, 1]``.
- Units: centimetres (outer eye corners 8.9 apart, head 34 tall with the neck) -> x10 mm.
- Axes: already the project's (y up, z out of the face, x toward the subject's left:
  landmark 36, the subject's right eye corner, has x < 0), so only scale and shift.
- Origin (after import): ``_common.head_origin`` on the face + head-and-neck skin, i.e.
  midline, eye height, mid-depth of the head at eye height (about 17 mm in front of the
  source origin and 33 mm above it).

Eyeballs: each is an outer shell (material M_Sclera*, textured with sclera *and* iris in
ICT) around a hidden inner sphere (M_Iris*). Part ``eyeballs`` keeps the shells, whose iris
is cut out by geometry (a cone around +z from the fitted sphere centre, 5.9 mm iris radius);
part ``irises`` (off by default) adds the inner spheres.

Regions: parts give skin / mouth_interior / teeth / sclera + iris / other (eye shells,
lashes); eye sockets (the lid lining around the eyeball) are ``eyelids``; on the skin parts,
lips / brows / eyelids / scalp / neck / ears come from landmark geometry (``_regions``).
The neck's cut is capped (``_common.close_neck``: one added vertex, the ring's mean).

Only the ``v`` lines of the 150+ OBJ files are parsed (regex + one float conversion per
file); the whole folder (~400 MB) imports in about 10-15 s on two cores.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from synth.errors import UserError
from synth.importers import ImporterOption, register_importer
from synth.importers._common import (append_loop_means, check_landmarks, close_neck, head_origin, num_modes,
                                     orient_outward, remap_indices, submesh, triangulate)
from synth.importers._obj import ObjTopology, read_obj_topology, read_obj_vertices
from synth.importers._regions import label_face_features, label_head_regions, label_iris_by_cone
from synth.morphable import MorphableModel, region_id

__all__ = ["import_ict", "PARTS", "DEFAULT_PARTS"]

_NEUTRAL = "generic_neutral_mesh.obj"
_INDEX_JSON = "vertex_indices.json"
_NUM_VERTICES = 26719
_NUM_ID = 100
_CM_TO_MM = 10.0

# Part -> (first, last) vertex, inclusive, or the material whose polygons make the part.
_PART_SOURCE: dict[str, tuple[int, int] | str] = {
    "face": (0, 9408),
    "head_and_neck": (9409, 11247),
    "mouth_socket": (11248, 13293),
    "eye_socket_left": (13294, 13677),
    "eye_socket_right": (13678, 14061),
    "gums_and_tongue": (14062, 17038),
    "teeth": (17039, 21450),
    "eyeball_left": "M_ScleraLeft",  # outer shell of the eyeball (vertices 21451-22220)
    "eyeball_right": "M_ScleraRight",
    "iris_left": "M_IrisLeft",  # inner sphere, hidden inside the shell (22221-23020)
    "iris_right": "M_IrisRight",
    "lacrimal": "M_LacrimalFluid",
    "eye_blend": "M_EyeBlend",
    "eye_occlusion": "M_EyeOcclusion",
    "eyelashes": "M_EyeLashes",
}
_PART_REGION = {
    "face": "skin", "head_and_neck": "skin", "mouth_socket": "mouth_interior", "eye_socket_left": "eyelids",
    "eye_socket_right": "eyelids", "gums_and_tongue": "mouth_interior", "teeth": "teeth", "eyeball_left": "sclera",
    "eyeball_right": "sclera", "iris_left": "iris", "iris_right": "iris", "lacrimal": "other", "eye_blend": "other",
    "eye_occlusion": "other", "eyelashes": "other",
}
_GROUPS = {
    "eye_sockets": ("eye_socket_left", "eye_socket_right"),
    "eyeballs": ("eyeball_left", "eyeball_right"),
    "irises": ("iris_left", "iris_right"),
    "all": tuple(_PART_SOURCE),
}
#: Part names accepted by the ``parts`` option (plus the group names in ``_GROUPS``).
PARTS: tuple[str, ...] = tuple(_PART_SOURCE)
DEFAULT_PARTS = "face,head_and_neck,eye_sockets,eyeballs"

# 68 iBUG landmarks and jawline candidates, as vertex indices (ICT-FaceKit README).
_LANDMARKS68 = np.array([
    1225, 1888, 1052, 367, 1719, 1722, 2199, 1447, 966, 3661, 4390, 3927, 3924, 2608, 3272, 4088, 3443, 268, 493,
    1914, 2044, 1401, 3615, 4240, 4114, 2734, 2509, 978, 4527, 4942, 4857, 1140, 2075, 1147, 4269, 3360, 1507,
    1542, 1537, 1528, 1518, 1511, 3742, 3751, 3756, 3721, 3725, 3732, 5708, 5695, 2081, 0, 4275, 6200, 6213,
    6346, 6461, 5518, 5957, 5841, 5702, 5711, 5533, 6216, 6207, 6470, 5517, 5966,
])
_CONTOUR_RIGHT = np.array([1280, 1278, 1275, 1272, 1248, 12, 820, 1834, 1902, 243, 844, 781, 1673, 2199, 801, 1447, 800])
_CONTOUR_LEFT = np.array([3041, 3661, 3042, 4390, 3880, 3022, 3085, 2484, 4102, 4036, 3061, 2253, 3466, 3490, 3493, 3496, 3498])

OPTIONS = (
    ImporterOption("parts", str, DEFAULT_PARTS,
                   "comma-separated parts to keep: " + ", ".join(PARTS) + "; groups: " + ", ".join(_GROUPS)),
    ImporterOption("n_id", int, _NUM_ID, "number of identity modes to import (0-100)"),
)


def _parse_parts(parts: str | tuple[str, ...] | list[str], where: str) -> list[str]:
    names = [p.strip() for p in parts.split(",")] if isinstance(parts, str) else [str(p) for p in parts]
    out: list[str] = []
    for name in filter(None, names):
        if name in _GROUPS:
            out += [p for p in _GROUPS[name] if p not in out]
        elif name in _PART_SOURCE:
            out += [name] if name not in out else []
        else:
            raise UserError(f"{where}: unknown ICT part {name!r}; parts: {', '.join(PARTS)}; groups: {', '.join(_GROUPS)}")
    if "face" not in out:
        raise UserError(f"{where}: parts must include 'face' (it holds the landmarks), got {out}")
    return out


def _part_vertices(name: str, topo: ObjTopology, triangles_src: np.ndarray, tri_poly: np.ndarray) -> np.ndarray:
    src = _PART_SOURCE[name]
    if isinstance(src, tuple):
        return np.arange(src[0], src[1] + 1)
    polys = topo.material_polygons(src)
    return np.unique(triangles_src[np.isin(tri_poly, polys)])


@register_importer("ict", OPTIONS)
def import_ict(src: Path, parts: str = DEFAULT_PARTS, n_id: int = _NUM_ID) -> MorphableModel:
    """Import an ICT-FaceKit ``FaceXModel/`` folder (see the module docstring).

    Args:
        src: the folder holding ``generic_neutral_mesh.obj`` and the blendshape OBJs.
        parts: parts to keep (names in ``PARTS`` or groups), comma-separated.
        n_id: identity modes to import, in file order.
    """
    folder = Path(src)
    where = str(folder)
    if not (folder / _NEUTRAL).is_file() or not (folder / _INDEX_JSON).is_file():
        raise UserError(f"{where}: not an ICT-FaceKit FaceXModel folder (needs {_NEUTRAL} and {_INDEX_JSON})")
    keep_parts = _parse_parts(parts, where)
    n_id = num_modes(n_id, _NUM_ID, "n_id", where)
    try:
        expr_names = list(json.loads((folder / _INDEX_JSON).read_text())["expressions"])
    except (ValueError, KeyError, TypeError) as e:
        raise UserError(f"{folder / _INDEX_JSON}: cannot read the 'expressions' list ({e})") from None

    neutral = read_obj_vertices(folder / _NEUTRAL, expect=_NUM_VERTICES)
    topo = read_obj_topology(folder / _NEUTRAL, _NUM_VERTICES)
    tris_src, tri_poly = triangulate(topo.polygons)

    # Keep the selected parts' vertices; label each by its part.
    keep = np.zeros(_NUM_VERTICES, dtype=bool)
    region_src = np.full(_NUM_VERTICES, region_id("skin"), dtype=np.uint8)
    part_of = {name: _part_vertices(name, topo, tris_src, tri_poly) for name in keep_parts}
    for name, verts_idx in part_of.items():
        keep[verts_idx] = True
        region_src[verts_idx] = region_id(_PART_REGION[name])
    for name in ("eyeball_left", "eyeball_right"):  # the shell is textured sclera + iris in ICT: cut by geometry
        if name in part_of:
            label_iris_by_cone(neutral * _CM_TO_MM, part_of[name], region_src)
    old_to_new, triangles, kept = submesh(keep, tris_src)

    # Bases: only 'v' lines of each file, restricted to the kept vertices, cm -> mm.
    def delta(name: str) -> np.ndarray:
        path = folder / f"{name}.obj"
        if not path.is_file():
            raise UserError(f"{path}: missing (listed by the ICT-FaceKit layout)")
        return ((read_obj_vertices(path, expect=_NUM_VERTICES)[kept] - neutral[kept]) * _CM_TO_MM).astype(np.float32)

    id_names = [f"identity{k:03d}" for k in range(n_id)]
    id_basis = np.stack([delta(n) for n in id_names]) if n_id else np.zeros((0, kept.size, 3), np.float32)
    expr_basis = np.stack([delta(n) for n in expr_names]) if expr_names else np.zeros((0, kept.size, 3), np.float32)

    verts = neutral[kept] * _CM_TO_MM
    lmk = remap_indices(old_to_new, _LANDMARKS68, "landmarks", where)
    contour_r = remap_indices(old_to_new, _CONTOUR_RIGHT, "contour_right", where)
    contour_l = remap_indices(old_to_new, _CONTOUR_LEFT, "contour_left", where)
    region = region_src[kept]
    skin_part = np.zeros(_NUM_VERTICES, dtype=bool)
    for name in ("face", "head_and_neck"):
        if name in part_of:
            skin_part[part_of[name]] = True
    skin_part = skin_part[kept]

    triangles, neck = close_neck(verts, triangles, lmk)  # the source frame is y up already
    verts, id_basis, expr_basis = (append_loop_means(a, neck, axis) for a, axis in ((verts, 0), (id_basis, 1), (expr_basis, 1)))
    region = np.concatenate([region, [np.bincount(region[lp]).argmax() for lp in neck]]).astype(np.uint8)
    skin_part = np.concatenate([skin_part, [skin_part[lp].all() for lp in neck]]).astype(bool)

    origin, rule = head_origin(verts, lmk, head=skin_part)
    verts = verts - origin
    check_landmarks(verts, lmk, where)
    triangles, flipped = orient_outward(verts, triangles)
    label_face_features(verts, lmk, region, skin_part)
    label_head_regions(verts, lmk, region, skin_part)

    return MorphableModel(
        mean_shape=verts,
        triangles=triangles,
        id_basis=id_basis,
        expr_basis=expr_basis,
        expr_range=np.tile(np.array([0.0, 1.0], np.float32), (len(expr_names), 1)),
        landmarks68=lmk,
        contour_right=contour_r,
        contour_left=contour_l,
        vertex_region=region,
        id_names=tuple(id_names),
        expr_names=tuple(expr_names),
        meta={
            "name": "ict-facekit",
            "source": f"ICT-FaceKit FaceXModel ({folder.name}), parts {','.join(keep_parts)}",
            "license": "MIT (ICT-FaceKit, USC Institute for Creative Technologies)",
            "importer": "ict",
            "source_units": "cm (scaled x10 to mm)",
            "origin": f"{rule}; source origin moved by {np.round(-origin, 1).tolist()} mm",
            "triangles_flipped": str(flipped),
        },
    )
