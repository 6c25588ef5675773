"""``synth data inspect``: statistics and a contact sheet for any supported dataset kind."""

from __future__ import annotations

import subprocess
import sys

import cv2
import pytest

from synth.data.inspect import KINDS, describe, open_any, sample_sheet
from synth.errors import UserError


def test_every_reader_kind_is_inspectable():
    assert "synthetic" in KINDS and "aflw2000" in KINDS and "image_folder" in KINDS
    with pytest.raises(UserError, match="unknown dataset kind 'pts'"):
        open_any("pts", "/tmp")


def test_real_aflw2000_statistics_and_sheet(aflw2000_dev_dir, tmp_path):
    ds = open_any("aflw2000", aflw2000_dev_dir)
    text = describe(ds, n_stats=40)
    assert "samples        250" in text and "pose known     yaw 100%" in text
    sheet = sample_sheet(ds, n=6, columns=3, tile=96)
    assert sheet.shape == (2 * 96, 3 * 96, 3) and sheet.std() > 10


def test_cli_writes_the_sheet(aflw2000_dev_dir, tmp_path):
    out = tmp_path / "sheet.png"
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "data", "inspect", "aflw2000", str(aflw2000_dev_dir),
                           "--sheet", str(out), "-n", "4", "--stats", "10"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert cv2.imread(str(out)) is not None
    bad = subprocess.run([sys.executable, "-m", "synth.cli", "data", "inspect", "ibug", str(tmp_path / "nowhere")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
