"""One labelled synthetic face: sample a scene from (seed, index), render it, label it.

``SampleMaker(config)(index)`` is a pure function of the config and the index: its random
streams (one per stage) are ``synth.seeding.StageStreams`` of ``(config.seed, index)``, so
a dataset is the same whatever the number of workers or shards. The per-sample path:

1. sample identity/expression weights, pose, camera, crop jitter, appearance, lighting;
2. evaluate the 3DMM, pose it in the camera frame, fold the crop into the intrinsics
   (the 3DMM is evaluated for ``BLEND_GROUP`` consecutive indices at once, in fixed groups
   of global indices, so it stays a function of the index alone);
3. shade per vertex (SH + directional + specular), rasterize with supersampling;
4. composite over a background, add occluders, degrade the image;
5. labels: 68 landmarks in the 3D and 2D-contour conventions (crop pixels), 3D landmarks
   (camera frame), visibility (depth test + occluders), pose, camera, bbox, parameters.

Label fields and units are listed in ``SAMPLE_FIELDS`` (and docs/hdf5-schema.md).
"""

from __future__ import annotations

from functools import cached_property

import numba
import numpy as np

from synth.decimate import lod_model
from synth.gen_config import GeneratorConfig
from synth.geometry import euler_to_matrix, matrix_to_euler
from synth.labels import contour_table, landmark_visibility
from synth.landmarks import NUM_LANDMARKS
from synth.morphable import REGION_NAMES, MorphableModel
from synth.raster import vertex_normals
from synth.render import Camera, render_mesh, to_screen
from synth.scene.appearance import sample_albedo
from synth.scene.background import sample_background
from synth.scene.degrade import degrade
from synth.scene.color import over_to_srgb
from synth.scene.lighting import sample_lighting, shade
from synth.scene.occluders import OCCLUDER_KINDS, apply_occluders, occluded_landmarks, sample_occluders
from synth.schema import Field
from synth.seeding import StageStreams
from synth.framing import crop_box, crop_intrinsics, sample_camera
from synth.expression import sample_expression, sample_identity
from synth.pose import sample_pose

__all__ = ["SampleMaker", "sample_fields", "BLEND_GROUP", "MASK_BACKGROUND", "MASK_OCCLUDER"]

#: segmentation mask values: 0 background, 1 + region id for the head, 255 occluders.
MASK_BACKGROUND = 0
MASK_OCCLUDER = 255
MAX_LIGHTS = 4
#: a landmark whose vertex normal n has n . (direction to the camera) <= -FACING_SLACK is
#: self-occluded (on the far side of the silhouette).
FACING_SLACK = 0.1
#: samples [g * BLEND_GROUP, (g + 1) * BLEND_GROUP) get their 3DMM shapes from one
#: ``MorphableModel.shape_batch`` call (the identity basis is streamed once per group
#: instead of once per sample). Groups are fixed by the global index, so a sample's bytes
#: do not depend on which worker, chunk or shard computes it; changing this changes the
#: float32 rounding of the vertices, hence the dataset bytes.
BLEND_GROUP = 16


def sample_fields(cfg: GeneratorConfig, model: MorphableModel) -> list[Field]:
    """The per-sample label fields of a dataset made with ``cfg`` and ``model``."""
    s = cfg.crop.image_size
    n_id = model.num_id if cfg.shape.n_id == 0 else min(cfg.shape.n_id, model.num_id)
    K = NUM_LANDMARKS
    fields = [
        Field("image", (s, s, 3), "uint8", "image", "RGB crop, sRGB"),
        Field("lmk2d", (K, 2), "float32", "array", "68 landmarks, 3D convention (fixed vertices, hidden ones included), crop pixels, origin at the top-left pixel's centre"),
        Field("lmk2d_contour", (K, 2), "float32", "array", "68 landmarks, 2D contour convention (jaw follows the visible outline), crop pixels"),
        Field("lmk3d_cam", (K, 3), "float32", "array", "68 landmarks (3D convention) in the camera frame, mm (x right, y up, z toward the viewer)"),
        Field("visible", (K,), "bool", "array", "3D-convention landmark visible: in the crop, not hidden by the head, not under an occluder"),
        Field("visible_contour", (K,), "bool", "array", "same for the 2D contour convention"),
        Field("self_occluded", (K,), "bool", "array", "3D-convention landmark hidden by the head itself (depth test)"),
        Field("occluded", (K,), "bool", "array", "3D-convention landmark covered by an occluder"),
        Field("rotation", (3, 3), "float32", "array", "R_cam_from_model (synth.geometry convention)"),
        Field("euler_deg", (3,), "float32", "array", "yaw, pitch, roll in degrees, canonical decomposition of rotation (300W-LP Pose_Para convention)"),
        Field("euler_sampled_deg", (3,), "float32", "array", "yaw, pitch, roll as sampled (may lie beyond ±90° yaw in the fullrange preset)"),
        Field("translation_mm", (3,), "float32", "array", "head origin in the camera frame, mm"),
        Field("intrinsics", (3, 3), "float32", "array", "K of the crop, pixels"),
        Field("bbox", (4,), "float32", "array", "face box x0, y0, x1, y1: extent of the 68 3D-convention landmarks, crop pixels"),
        Field("crop_box", (4,), "float32", "array", "crop edges x0, y0, x1, y1 on the virtual sensor, pixels"),
        Field("id_weights", (n_id,), "float32", "array", "identity weights, N(0,1) units"),
        Field("expr_weights", (model.num_expr,), "float32", "array", "expression weights (model expr_range units)"),
        Field("light_sh", (9, 3), "float32", "array", "SH radiance coefficients (camera frame), linear RGB"),
        Field("light_dirs", (MAX_LIGHTS, 3), "float32", "array", "directional lights: unit vectors surface->light (camera frame); zero rows unused"),
        Field("light_colors", (MAX_LIGHTS, 3), "float32", "array", "directional light linear RGB intensity; zero rows unused"),
        Field("skin_rgb", (3,), "float32", "array", "mean linear skin albedo"),
        Field("occluder_kinds", (len(OCCLUDER_KINDS),), "bool", "array", "which occluder kinds are present (order: root attribute occluder_kinds)"),
    ]
    if cfg.output.save_mask:
        fields.append(Field("mask", (s, s), "uint8", "mask", "0 background, 1+region id head (region_names attribute), 255 occluder"))
    if cfg.output.save_depth:
        fields.append(Field("depth", (s, s), "float16", "mask", "nearest surface depth along the view axis, mm; 0 = background"))
    return fields


class SampleMaker:
    """Picklable callable: ``maker(index) -> dict`` of the fields in ``sample_fields``.

    Holds only the config and the model path until first use, so a worker process loads
    the model (and makes its level of detail) once.
    """

    def __init__(self, cfg: GeneratorConfig, model: MorphableModel | None = None) -> None:
        self.cfg = cfg
        if model is not None:
            self.__dict__["source_model"] = model

    def __getstate__(self):
        return {"cfg": self.cfg}

    @cached_property
    def source_model(self) -> MorphableModel:
        """The model named by ``cfg.model``, full resolution."""
        from synth.model_spec import open_model

        return open_model(self.cfg.model)

    @cached_property
    def model(self) -> MorphableModel:
        """The model samples are made with: ``source_model`` at the level of detail of
        ``cfg.render`` (same landmarks, bases and weights; see ``synth.decimate``)."""
        cfg = self.cfg
        return lod_model(self.source_model, cfg.crop.image_size, cfg.render.triangles_per_px,
                         cfg.render.lod_max_error_px, cfg.crop.scale[0])

    @cached_property
    def _streams(self) -> StageStreams:
        return StageStreams(8)

    @cached_property
    def _shape_streams(self) -> StageStreams:
        return StageStreams(1)  # stage 0 alone: the same stream as ``_streams``' first

    def _group_shapes(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(id_weights, expr_weights, verts (V, 3)) of sample ``index``, from its group's
        cached ``shape_batch`` (computed on the first request of the group)."""
        g, k = divmod(index, BLEND_GROUP)
        cached = self.__dict__.get("_group")
        if cached is None or cached[0] != g:
            cfg, model = self.cfg, self.model
            ids, exprs = [], []
            for j in range(g * BLEND_GROUP, (g + 1) * BLEND_GROUP):
                (r_shape,) = self._shape_streams(cfg.seed, j)
                ids.append(sample_identity(r_shape, model, cfg.shape))
                exprs.append(sample_expression(r_shape, model, cfg.shape))
            cached = (g, ids, exprs, model.shape_batch(np.stack(ids), np.stack(exprs)))
            self.__dict__["_group"] = cached
        _, ids, exprs, verts = cached
        return ids[k], exprs[k], verts[k]

    @cached_property
    def fields(self) -> list[Field]:
        return sample_fields(self.cfg, self.source_model)

    def __call__(self, index: int) -> dict[str, np.ndarray]:
        cfg, model = self.cfg, self.model
        # Each stage gets its own stream, so adding a draw to one stage does not shift the
        # others (and configs that disable a stage keep the rest of the sample).
        # (the shape stream, the first, is drawn by the group in ``_group_shapes``)
        _, r_pose, r_cam, r_app, r_light, r_bg, r_occ, r_deg = self._streams(cfg.seed, index)

        id_w, expr_w, verts = self._group_shapes(index)
        ypr_sampled = sample_pose(r_pose, cfg.pose)
        R = euler_to_matrix(*ypr_sampled)
        K_sensor, t = sample_camera(r_cam, cfg.camera)

        verts_cam, view = _pose(verts, R, t)
        lmk_cam = verts_cam[model.landmarks68]
        box = crop_box(r_cam, lmk_cam, K_sensor, cfg.crop)
        size = cfg.crop.image_size
        K = crop_intrinsics(K_sensor, box, size)
        camera = Camera(K, size, size)

        albedo, app_params = sample_albedo(r_app, model, cfg.appearance)
        lighting = sample_lighting(r_light, cfg.lighting)
        normals = vertex_normals(verts_cam, model.triangles)
        radiance = shade(normals, albedo, view, lighting)  # linear RGB per vertex (Gouraud)
        out = render_mesh(verts_cam, model.triangles, radiance, camera, cfg.render.supersample, cfg.render.cull_backfaces,
                          cfg.render.antialias)

        # Composite in linear light (coverage-weighted), encode to sRGB once.
        img = over_to_srgb(out.rgb, out.alpha, sample_background(r_bg, size, size, cfg.background))

        # Landmarks (both conventions) and self-occlusion from the render's depth buffer,
        # tested once for the landmark vertices and every contour candidate.
        uv_all = out.verts_scr[:, :2]
        table = contour_table(model)
        tested = np.concatenate([model.landmarks68, table.candidates])
        # A point on a surface turned away from the camera is hidden by the head itself (and
        # not drawn at all with back-face culling); a little slack keeps silhouette points.
        facing = _facing(normals, view, tested, FACING_SLACK)
        vis_tested = self._depth_visible(verts_cam, tested, model.triangles, out) & facing
        vis_self = vis_tested[:NUM_LANDMARKS]
        contour_idx = table.contour_vertices(model, uv_all, R, vis_tested[NUM_LANDMARKS:])
        vis_vertex = np.zeros(model.num_vertices, dtype=bool)
        vis_vertex[tested] = vis_tested  # a vertex tested twice got the same answer twice
        vis_contour_self = vis_vertex[contour_idx]
        lmk2d = uv_all[model.landmarks68]
        lmk2d_contour = uv_all[contour_idx]
        in_crop = _inside(lmk2d, size)

        bbox = np.concatenate([lmk2d.min(0), lmk2d.max(0)])
        occluders = sample_occluders(r_occ, (size, size), lmk2d.astype(np.float32), bbox.astype(np.float32), cfg.occluders)
        if occluders:
            img, occ_alpha = apply_occluders(img, occluders)
            occ = occluded_landmarks(lmk2d, occ_alpha)
            occ_contour = occluded_landmarks(lmk2d_contour, occ_alpha)
        else:  # most samples: no layer, no coverage map
            occ_alpha, occ, occ_contour = None, np.zeros(NUM_LANDMARKS, bool), np.zeros(NUM_LANDMARKS, bool)
        img, _ = degrade(img, r_deg, cfg.degrade)

        sample = {
            "image": img,
            "lmk2d": lmk2d.astype(np.float32),
            "lmk2d_contour": lmk2d_contour.astype(np.float32),
            "lmk3d_cam": lmk_cam.astype(np.float32),
            "visible": vis_self & ~occ & in_crop,
            "visible_contour": vis_contour_self & ~occ_contour & _inside(lmk2d_contour, size),
            "self_occluded": ~vis_self,
            "occluded": occ,
            "rotation": R.astype(np.float32),
            "euler_deg": matrix_to_euler(R).astype(np.float32),
            "euler_sampled_deg": ypr_sampled.astype(np.float32),
            "translation_mm": t.astype(np.float32),
            "intrinsics": K.astype(np.float32),
            "bbox": bbox.astype(np.float32),
            "crop_box": box.astype(np.float32),
            "id_weights": id_w,
            "expr_weights": expr_w,
            **_lighting_fields(lighting),
            "skin_rgb": np.asarray(app_params.get("skin_rgb", np.zeros(3)), dtype=np.float32).reshape(3),
            "occluder_kinds": np.array([any(o.kind == k for o in occluders) for k in OCCLUDER_KINDS], dtype=bool),
        }
        if cfg.output.save_mask:
            sample["mask"] = self._mask(model, out, occ_alpha)
        if cfg.output.save_depth:
            sample["depth"] = _min_pool(out.raster.depth, out.factor).astype(np.float16)
        return sample

    @staticmethod
    def _depth_visible(verts_cam: np.ndarray, idx: np.ndarray, triangles: np.ndarray, out) -> np.ndarray:
        scr = to_screen(verts_cam[idx], out.camera_hi)
        return landmark_visibility(scr, out.raster, vertex_ids=idx, triangles=triangles)

    @staticmethod
    def _mask(model: MorphableModel, out, occ_alpha: np.ndarray | None) -> np.ndarray:
        f = out.factor
        tri = out.raster.tri_id[f // 2 :: f, f // 2 :: f]  # one sub-pixel per output pixel
        region_of_tri = model.vertex_region[model.triangles[:, 0]]
        mask = np.where(tri >= 0, 1 + region_of_tri[np.maximum(tri, 0)], MASK_BACKGROUND).astype(np.uint8)
        if occ_alpha is not None:
            mask[occ_alpha > 0.5] = MASK_OCCLUDER
        return mask


def _pose(verts_model: np.ndarray, R: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V, 3) model-frame vertices (mm) -> (verts_cam (V, 3) float32 mm = R p + t, view (V, 3)
    float32 unit directions vertex -> camera), camera frame."""
    verts_cam = np.empty(verts_model.shape, np.float32)
    view = np.empty(verts_model.shape, np.float32)
    _pose_kernel(np.ascontiguousarray(verts_model, dtype=np.float32), np.asarray(R, np.float32),
                 np.asarray(t, np.float32), verts_cam, view)
    return verts_cam, view


@numba.njit(cache=True, nogil=True)
def _pose_kernel(p, R, t, out, view):  # pragma: no cover - numba
    for i in range(p.shape[0]):
        x, y, z = p[i, 0], p[i, 1], p[i, 2]
        cx = x * R[0, 0] + y * R[0, 1] + z * R[0, 2] + t[0]
        cy = x * R[1, 0] + y * R[1, 1] + z * R[1, 2] + t[1]
        cz = x * R[2, 0] + y * R[2, 1] + z * R[2, 2] + t[2]
        out[i, 0], out[i, 1], out[i, 2] = cx, cy, cz
        n = np.sqrt(cx * cx + cy * cy + cz * cz)
        view[i, 0], view[i, 1], view[i, 2] = -cx / n, -cy / n, -cz / n


@numba.njit(cache=True, nogil=True)
def _facing(normals, view, idx, slack):  # pragma: no cover - numba
    """(len(idx),) bool: n . v > -slack for the vertices ``idx`` (unit normals, unit
    directions to the camera)."""
    out = np.empty(idx.shape[0], dtype=np.bool_)
    for j in range(idx.shape[0]):
        i = idx[j]
        out[j] = normals[i, 0] * view[i, 0] + normals[i, 1] * view[i, 1] + normals[i, 2] * view[i, 2] > -slack
    return out


def _inside(uv: np.ndarray, size: int) -> np.ndarray:
    return (uv[:, 0] >= -0.5) & (uv[:, 0] < size - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] < size - 0.5)


def _min_pool(depth_hi: np.ndarray, f: int) -> np.ndarray:
    h, w = depth_hi.shape[0] // f, depth_hi.shape[1] // f
    d = depth_hi.reshape(h, f, w, f).min(axis=(1, 3))
    return np.where(np.isfinite(d), d, 0.0)


def _lighting_fields(lighting) -> dict[str, np.ndarray]:
    dirs = np.zeros((MAX_LIGHTS, 3), np.float32)
    cols = np.zeros((MAX_LIGHTS, 3), np.float32)
    n = min(len(lighting.dirs), MAX_LIGHTS)
    dirs[:n] = lighting.dirs[:n]
    cols[:n] = lighting.colors[:n]
    return {"light_sh": np.asarray(lighting.sh, np.float32), "light_dirs": dirs, "light_colors": cols}


assert len(REGION_NAMES) < MASK_OCCLUDER - 1
