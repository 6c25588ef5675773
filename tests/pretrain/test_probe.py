"""Probes: closed-form ridge and kNN are exact where they must be; metrics finite on random features."""

from __future__ import annotations

import json

import numpy as np
import torch

from _pretrain_helpers import tiny_overrides
from pretrain.backbones import init_backbone
from pretrain.config import ProbeConfig, resolve_config
from pretrain.probe import knn_predict, landmark_nme, pose_mae_deg, ridge_fit_predict, run_probe
from pretrain.train import run


def test_ridge_recovers_a_linear_map_and_knn_finds_duplicates():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    Y = X @ rng.normal(size=(5, 3)) + 2.0
    np.testing.assert_allclose(ridge_fit_predict(X, Y, X[:10], ridge=1e-9), Y[:10], atol=1e-6)
    np.testing.assert_allclose(knn_predict(X, Y, X[:10], k=1), Y[:10])


def test_metric_conventions():
    gt = np.array([[170.0, 0.0, -10.0]])
    assert pose_mae_deg(np.array([[-170.0, 0.0, -10.0]]), gt)["yaw_mae_deg"] == 20.0  # wrapped
    pts = np.array([[[0.0, 0.0], [4.0, 0.0], [4.0, 9.0], [0.0, 9.0]]])
    assert landmark_nme(pts, pts) == 0.0
    assert np.isclose(landmark_nme(pts + [3.0, 0.0], pts), 3.0 / 6.0)  # sqrt(4 * 9) = 6


def test_probe_on_random_backbones_is_finite(tiny_shards):
    train, test = tiny_shards
    cfg = ProbeConfig(train=str(train), test=str(test), k=3)
    res = run_probe(init_backbone("mobilenet_v3_small", 0), cfg, image_size=32, mean=(0.5,) * 3, std=(0.25,) * 3,
                    baseline=init_backbone("mobilenet_v3_small", 1))
    assert res["n_train"] == 12 and res["n_test"] == 12
    for who in ("pretrained", "random_init"):
        for probe in ("linear", "knn"):
            assert all(np.isfinite(v) for v in res[who][probe].values())


def test_probe_runs_in_training_and_writes_probe_json(tiny_synth, tiny_shards, tmp_path):
    train, test = tiny_shards
    cfg = resolve_config(overrides=tiny_overrides(tiny_synth, tmp_path / "p", steps=2,
                                                  probe=f"{{train: '{train}', test: '{test}', every: 1, k: 3}}"))
    out = run(cfg, progress=False)
    data = json.loads((out / "probe.json").read_text())
    assert [h["step"] for h in data["history"]] == [1, 2] and data["latest"]["step"] == 2
    assert torch.isfinite(torch.tensor(data["latest"]["pretrained"]["linear"]["nme"]))
