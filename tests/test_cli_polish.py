"""Issue 15, user-facing output: the CLI's messages, options and output."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from handsdk.cli import app
from tests.conftest import red_stroke_frame

runner = CliRunner()


def test_profile_without_bundle_uses_the_default_bundle(bundle_path, monkeypatch):
    import handsdk.bundle as hb

    monkeypatch.setattr(hb, "default_bundle_path", lambda: bundle_path)
    r = runner.invoke(app, ["profile", "--frames", "5", "--warmup", "0"])
    assert r.exit_code == 0, r.output
    assert "[1/1] profiling" in r.output and "tiny.handsdk" in r.output and "FAILED" not in r.output
    monkeypatch.setattr(hb, "default_bundle_path", lambda: None)
    r = runner.invoke(app, ["profile"])
    assert r.exit_code == 2 and "--bundle" in r.output
