"""The three console scripts: --help everywhere, one-line errors with exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True)


@pytest.mark.parametrize("module", ["synth.cli", "pretrain.cli", "finetune.cli"])
def test_every_stage_has_help(module):
    proc = run(module, "--help")
    assert proc.returncode == 0 and "usage:" in proc.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["model", "import", "maya", "src", "out.npz"], "unknown"),
        (["model", "import", "ict", "/nonexistent/FaceXModel", "out.npz"], "/nonexistent/FaceXModel"),
        (["model", "info", "/nonexistent/head.npz"], "/nonexistent/head.npz"),
        (["model", "import", "ict", "/tmp", "out.npz", "-o", "n_id"], "expected KEY=VALUE"),
        (["inspect", "/nonexistent/ds"], "/nonexistent/ds"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(args, message):
    proc = run("synth.cli", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_model_info_and_preview_of_a_model_file(tmp_path, tiny_model):
    from synth.model_io import save_model

    path = save_model(tiny_model(), tmp_path / "cube.npz")
    info = run("synth.cli", "model", "info", str(path))
    assert info.returncode == 0 and "vertices   8" in info.stdout
    out = tmp_path / "preview.png"
    proc = run("synth.cli", "model", "preview", str(path), str(out), "--size", "64", "--n-random", "1")
    assert proc.returncode == 0, proc.stderr
    import cv2

    img = cv2.imread(str(out))
    assert img.shape == (3 * 64, 4 * 64, 3) and img.std() > 5


def test_pretrain_env_reports_the_device():
    proc = run("pretrain.cli", "env")
    assert proc.returncode == 0
    assert '"device": "cpu"' in proc.stdout or '"device": "cuda"' in proc.stdout
