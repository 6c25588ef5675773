"""Representation quality: linear (ridge) and kNN probes on frozen features predicting pose and landmarks.

Symbols: N samples, C feature channels, K = 68 landmarks.

Protocol: the backbone (eval mode, no gradients) embeds every image of a labelled
synthetic split, resized to the training ``image_size`` and normalised like the views;
``features`` (N, C) float64. Two probes fit on the train split, scored on the test split:

- linear: ridge regression in closed form on standardised features, targets centred
  (no penalty on the intercept): W = (X^T X + ridge I)^-1 X^T Y;
- kNN: mean target of the k most cosine-similar train features.

Targets: yaw, pitch, roll (degrees, ``synth.geometry`` convention) and the 68 landmarks
(pixels of the stored crop, ``lmk2d``). Metrics: MAE per angle in degrees, the error
wrapped to [-180, 180); NME = mean over points of ||pred - gt|| / sqrt(w h) of the gt
landmark box, averaged over samples. The same probes on a randomly initialised backbone
(same architecture, same seed) are the baseline the pretrained numbers are read against.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
import torch
from torch import nn

__all__ = ["extract_features", "ridge_fit_predict", "knn_predict", "pose_mae_deg", "landmark_nme", "run_probe"]


@torch.no_grad()
def extract_features(backbone: nn.Module, path: str, image_size: int, mean: Sequence[float], std: Sequence[float],
                     batch_size: int = 64, device: torch.device | str = "cpu") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features (N, C) float64, euler_deg (N, 3), lmk2d_px (N, 68, 2)) of a ``SyntheticDataset`` at ``path``."""
    from synth.data.synthetic import SyntheticDataset

    ds = SyntheticDataset(path)
    was_training = backbone.training
    backbone.eval()
    m = np.asarray(mean, np.float32)
    s = np.asarray(std, np.float32)
    feats, euler, lmk = [], [], []
    for start in range(0, len(ds), batch_size):
        xs = []
        for i in range(start, min(start + batch_size, len(ds))):
            sample = ds.read(i)
            img = sample.image
            if img.shape[0] != image_size or img.shape[1] != image_size:
                interp = cv2.INTER_AREA if img.shape[0] > image_size else cv2.INTER_LINEAR
                img = cv2.resize(img, (image_size, image_size), interpolation=interp)
            xs.append(((img.astype(np.float32) / 255.0 - m) / s).transpose(2, 0, 1))
            euler.append(sample.euler_deg)
            lmk.append(sample.landmarks)
        x = torch.from_numpy(np.stack(xs)).to(device)
        feats.append(backbone(x).float().cpu().numpy().astype(np.float64))
    backbone.train(was_training)
    ds.close()
    return np.concatenate(feats), np.asarray(euler, np.float64), np.asarray(lmk, np.float64)


def ridge_fit_predict(X_train: np.ndarray, Y_train: np.ndarray, X_test: np.ndarray, ridge: float = 1.0) -> np.ndarray:
    """Closed-form ridge: X (N, C), Y (N, T) -> predictions (M, T) for X_test (M, C); float64."""
    mu, sd = X_train.mean(0), X_train.std(0) + 1e-8
    Xs, Xt = (X_train - mu) / sd, (X_test - mu) / sd
    y_mu = Y_train.mean(0)
    A = Xs.T @ Xs + ridge * np.eye(Xs.shape[1])
    W = np.linalg.solve(A, Xs.T @ (Y_train - y_mu))
    return Xt @ W + y_mu


def knn_predict(X_train: np.ndarray, Y_train: np.ndarray, X_test: np.ndarray, k: int = 10) -> np.ndarray:
    """Mean target of the ``k`` nearest train rows by cosine similarity: (M, T)."""
    a = X_train / (np.linalg.norm(X_train, axis=1, keepdims=True) + 1e-12)
    b = X_test / (np.linalg.norm(X_test, axis=1, keepdims=True) + 1e-12)
    k = min(int(k), len(a))
    idx = np.argpartition(-(b @ a.T), k - 1, axis=1)[:, :k]
    return Y_train[idx].mean(1)


def pose_mae_deg(pred_deg: np.ndarray, gt_deg: np.ndarray) -> dict[str, float]:
    """MAE (degrees) of yaw, pitch, roll and their mean; errors wrapped to [-180, 180)."""
    err = np.abs((pred_deg - gt_deg + 180.0) % 360.0 - 180.0).mean(0)
    return {"yaw_mae_deg": float(err[0]), "pitch_mae_deg": float(err[1]), "roll_mae_deg": float(err[2]),
            "mean_mae_deg": float(err.mean())}


def landmark_nme(pred_px: np.ndarray, gt_px: np.ndarray) -> float:
    """NME: (N, K, 2) predictions vs gt, per-point error / sqrt(w h) of the gt box, mean over points and samples."""
    wh = gt_px.max(1) - gt_px.min(1)
    norm = np.sqrt(np.maximum(wh[:, 0] * wh[:, 1], 1e-12))
    return float((np.linalg.norm(pred_px - gt_px, axis=2).mean(1) / norm).mean())


def _scores(train: tuple, test: tuple, ridge: float, k: int) -> dict[str, dict[str, float]]:
    (Xa, ea, la), (Xb, eb, lb) = train, test
    Ya = np.concatenate([ea, la.reshape(len(la), -1)], 1)
    out = {}
    for name, pred in (("linear", ridge_fit_predict(Xa, Ya, Xb, ridge)), ("knn", knn_predict(Xa, Ya, Xb, k))):
        out[name] = {**pose_mae_deg(pred[:, :3], eb), "nme": landmark_nme(pred[:, 3:].reshape(lb.shape), lb)}
    return out


def run_probe(backbone: nn.Module, cfg, *, image_size: int, mean: Sequence[float], std: Sequence[float],
              baseline: nn.Module | None = None, device: torch.device | str = "cpu") -> dict:
    """Probe ``backbone`` (and ``baseline``) with ``cfg`` (``pretrain.config.ProbeConfig``).

    Returns ``{"n_train", "n_test", "pretrained": {"linear": {...}, "knn": {...}}, "random_init": {...}}``.
    """
    result: dict = {}
    for name, net in (("pretrained", backbone), ("random_init", baseline)):
        if net is None:
            continue
        net = net.to(device)
        tr = extract_features(net, cfg.train, image_size, mean, std, cfg.batch_size, device)
        te = extract_features(net, cfg.test, image_size, mean, std, cfg.batch_size, device)
        result["n_train"], result["n_test"] = len(tr[0]), len(te[0])
        result[name] = _scores(tr, te, cfg.ridge, cfg.k)
    return result
