"""Config loading: defaults < preset < file < overrides, and one clear line per mistake."""

from __future__ import annotations

import pytest

from synth.config import dump_yaml, from_dict, load_yaml
from synth.errors import UserError
from synth.gen_config import GeneratorConfig, resolve_config
from synth.pose import POSE_PRESETS


def test_defaults_are_the_extreme_preset():
    cfg = resolve_config()
    assert cfg.preset == "extreme" and cfg.pose == POSE_PRESETS["extreme"]


def test_file_then_overrides_win_over_the_preset(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("preset: frontal\nseed: 5\ncrop:\n  image_size: 96\n")
    cfg = resolve_config(f, ["crop.image_size=64", "pose.yaw.high=10"])
    assert cfg.seed == 5 and cfg.crop.image_size == 64
    assert cfg.pose.yaw.low == POSE_PRESETS["frontal"].yaw.low and cfg.pose.yaw.high == 10
    assert resolve_config(f, preset="fullrange").pose == POSE_PRESETS["fullrange"]


def test_resolved_config_round_trips_through_yaml(tmp_path):
    cfg = resolve_config(preset="fullrange", overrides=["seed=3", "output.save_mask=true"])
    f = tmp_path / "resolved.yaml"
    f.write_text(dump_yaml(cfg))
    assert from_dict(GeneratorConfig, load_yaml(f)) == cfg


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["crop.imagesize=64"], r"config.crop: unknown key 'imagesize'; valid keys: image_size"),
        (["crop.image_size=big"], r"config.crop.image_size: expected an integer, got 'big'"),
        (["pose.yaw.kind=gaussian"], r"config.pose.yaw.kind: 'gaussian' is not one of"),
        (["output.codec=webp"], r"config.output.codec: 'webp' is not one of"),
        (["preset=sideways"], r"preset: unknown preset 'sideways'"),
        (["camera.fov_deg=[60, 30]"], r"camera.fov_deg"),
        (["shape.p_neutral=1.5"], r"shape.p_neutral: 1.5 is not a probability"),
        (["seed"], r"expected KEY.PATH=VALUE"),
    ],
)
def test_bad_values_give_one_line_naming_the_key(overrides, message):
    with pytest.raises(UserError, match=message) as e:
        resolve_config(overrides=overrides)
    assert "\n" not in str(e.value)


def test_bad_files_are_named(tmp_path):
    with pytest.raises(UserError, match="missing.yaml: config file not found"):
        resolve_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("crop: [unclosed\n")
    with pytest.raises(UserError, match=r"bad.yaml line \d+: invalid YAML"):
        resolve_config(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(UserError, match="list.yaml: expected a mapping"):
        resolve_config(lst)
