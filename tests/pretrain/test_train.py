"""The loop end to end on tiny data: outputs, exact resume, backbone round trip, config errors, bf16."""

from __future__ import annotations

import json

import pytest
import torch

from pretrain.backbone_io import load_backbone
from pretrain.cli import main
from pretrain.config import resolve_config
from pretrain.train import run
from synth.errors import UserError

from _pretrain_helpers import tiny_overrides


def _weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


def test_run_writes_outputs_and_backbone_round_trips(tiny_synth, tmp_path):
    out = tmp_path / "run"
    assert main(["run", *sum((["--set", o] for o in tiny_overrides(tiny_synth, out, method="simclr")), []),
                 "--no-progress"]) == 0
    for name in ("config.yaml", "versions.json", "metrics.jsonl", "loss.png", "backbone.pt", "checkpoints/last.pt"):
        assert (out / name).is_file(), name
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4] and all(r["loss"] > 0 for r in rows)
    net, meta = load_backbone(out / "backbone.pt")
    assert meta["backbone"] == "mobilenet_v3_small" and meta["method"] == "simclr" and meta["image_size"] == 32
    assert len(meta["mean"]) == 3 and net(torch.zeros(1, 3, 32, 32)).shape == (1, net.num_features)
    saved = _weights(out / "backbone.pt")
    assert all(torch.equal(v, saved[k]) for k, v in net.state_dict().items())
    with pytest.raises(UserError, match="already holds a run"):
        run(resolve_config(overrides=tiny_overrides(tiny_synth, out)), progress=False)


@pytest.mark.parametrize("method", ["moco", "byol"])
def test_resume_is_bit_exact(tiny_synth, tmp_path, method):
    extra = {"method": method, "steps": 5, "optim.warmup_steps": 2, "optim.grad_clip_norm": 1.0, "optim.accumulate": 2}
    if method == "moco":
        extra["method_args"] = "{hidden_dim: 64, out_dim: 32, memory_bank_size: 24}"
    full = run(resolve_config(overrides=tiny_overrides(tiny_synth, tmp_path / "full", **extra)), progress=False)
    cfg = resolve_config(overrides=tiny_overrides(tiny_synth, tmp_path / "cut", **extra))
    run(cfg, progress=False, stop_after=3)  # "interrupted" after 3 of 5 steps
    assert not (tmp_path / "cut" / "backbone.pt").exists()
    run(cfg, progress=False, resume=True)
    a, b = _weights(full / "backbone.pt"), _weights(tmp_path / "cut" / "backbone.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)
    ca = torch.load(full / "checkpoints" / "last.pt", weights_only=True)
    cb = torch.load(tmp_path / "cut" / "checkpoints" / "last.pt", weights_only=True)
    assert all(torch.equal(v, cb["model"][k]) for k, v in ca["model"].items() if isinstance(v, torch.Tensor))
    la = [json.loads(x)["loss"] for x in (full / "metrics.jsonl").read_text().splitlines()]
    lb = [json.loads(x)["loss"] for x in (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()]
    assert la == lb


def test_bf16_autocast_on_cpu_runs(tiny_synth, tmp_path):
    out = run(resolve_config(overrides=tiny_overrides(tiny_synth, tmp_path / "bf16", amp="bf16", steps=2,
                                                      **{"optim.name": "lars", "optim.lr": 0.1})), progress=False)
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in rows)


@pytest.mark.parametrize("override, message", [
    ("method=simclr2", "unknown method 'simclr2'; expected one of"),
    ("backbone=vgg", "unknown backbone 'vgg'; expected one of"),
    ("data=[{kind: synthetic, path: /nonexistent/x}]", "data[0].path: /nonexistent/x does not exist"),
    ("method_args={temprature: 0.1}", "method_args.temprature: not an option"),
    ("optim.name=sgd", "optim.name"),
])
def test_bad_config_is_one_line(tiny_synth, tmp_path, capsys, override, message):
    with pytest.raises(SystemExit) as e:
        main(["run", *sum((["--set", o] for o in tiny_overrides(tiny_synth, tmp_path / "x")), []), "--set", override])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err


def test_metrics_also_go_to_tensorboard_when_it_is_installed(tmp_path, monkeypatch):
    import sys
    import types

    from pretrain.metrics import MetricsLog

    scalars = []

    class FakeWriter:  # stands in for torch.utils.tensorboard.SummaryWriter
        def __init__(self, log_dir):
            self.log_dir = log_dir

        def add_scalar(self, tag, value, step):
            scalars.append((tag, value, step))

        def flush(self):
            pass

        def close(self):
            pass

    fake = types.ModuleType("torch.utils.tensorboard")
    fake.SummaryWriter = FakeWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake)
    log = MetricsLog(tmp_path / "metrics.jsonl", tensorboard_dir=tmp_path / "tb")
    log.write({"step": 7, "loss": 1.5, "lr": 0.1, "time": 123.0, "method": "simclr"})
    log.close()
    assert scalars == [("pretrain/loss", 1.5, 7), ("pretrain/lr", 0.1, 7)]
    assert '"loss": 1.5' in (tmp_path / "metrics.jsonl").read_text()
