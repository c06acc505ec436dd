"""The CLI through typer's test runner (and once as a real console script)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from handsdk.cli import app
from tests.conftest import red_stroke_frame

runner = CliRunner()


def test_bundle_inspect(bundle_path):
    r = runner.invoke(app, ["bundle", "inspect", str(bundle_path)])
    assert r.exit_code == 0, r.output
    assert "detector" in r.output and "gesture:letters" in r.output and "A, B, C, D" in r.output
    assert "provenance" in r.output and "test bundle" in r.output
    r = runner.invoke(app, ["bundle", "inspect", str(bundle_path), "--json"])
    s = json.loads(r.output)
    assert s["models"]["landmarker"]["inputs"]["image"][0] == [1, 32, 32, 3]


def test_bundle_inspect_of_a_broken_file_is_a_clear_error(tmp_path):
    p = tmp_path / "broken.handsdk"
    p.write_bytes(b"garbage")
    r = runner.invoke(app, ["bundle", "inspect", str(p)])
    assert r.exit_code == 2 and "not a handsdk bundle" in r.output and "Traceback" not in r.output


def test_run_on_an_image_folder_prints_per_stage_timings(bundle_path, tmp_path):
    import cv2

    for i in range(4):
        cv2.imwrite(str(tmp_path / f"{i}.jpg"), red_stroke_frame())
    r = runner.invoke(app, ["run", "--source", str(tmp_path), "--bundle", str(bundle_path), "--no-window"])
    assert r.exit_code == 0, r.output
    assert r.output.count("1 hand(s)") == 4
    assert "4 frames" in r.output and "detect" in r.output and "landmark" in r.output and "p50" in r.output
    r = runner.invoke(app, ["run", "--source", str(tmp_path), "--bundle", str(bundle_path), "--json",
                            "--max-frames", "2"])
    lines = [json.loads(x) for x in r.output.strip().splitlines()]
    assert len(lines) == 2 and lines[0]["timings_ms"]["total"] > 0 and len(lines[0]["hands"]) == 1


def test_run_saves_an_annotated_video(bundle_path, tmp_path):
    import cv2

    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        cv2.imwrite(str(frames / f"{i}.png"), red_stroke_frame())
    out = tmp_path / "out.mp4"
    r = runner.invoke(app, ["run", "--source", str(frames), "--bundle", str(bundle_path), "--save", str(out),
                            "--no-window"])
    assert r.exit_code == 0, r.output
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 3


@pytest.mark.parametrize("args,msg", [
    (["run", "--camera", "57"], "camera 57 could not be opened"),
    (["run", "--source", "/nonexistent/clip.mp4"], "source not found"),
    (["run"], "nothing to run on"),
    (["run", "--camera", "0", "--source", "x"], "either --camera or --source"),
])
def test_run_errors_are_clear(bundle_path, args, msg):
    r = runner.invoke(app, args + ["--bundle", str(bundle_path)])
    assert r.exit_code == 2, r.output
    assert msg in r.output and "Traceback" not in r.output


def test_run_with_a_missing_bundle(tmp_path):
    r = runner.invoke(app, ["run", "--source", str(tmp_path), "--bundle", str(tmp_path / "no.handsdk")])
    assert r.exit_code == 2 and "bundle not found" in r.output


def test_devices():
    r = runner.invoke(app, ["devices", "list"])
    assert r.exit_code == 0
    for d in ("x86_64", "rpi4", "rpi5", "jetson_nano", "jetson_orin_nano", "coral_edgetpu", "android_arm64"):
        assert d in r.output
    r = runner.invoke(app, ["devices", "show", "rpi4"])
    assert json.loads(r.output)["format"] == "int8"
    r = runner.invoke(app, ["devices", "show", "toaster"])
    assert r.exit_code == 2 and "unknown device" in r.output


def test_console_script_is_installed(bundle_path):
    exe = shutil.which("handsdk") or str(__import__("pathlib").Path(sys.executable).parent / "handsdk")
    out = subprocess.run([exe, "bundle", "inspect", str(bundle_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "landmarker" in out.stdout


def test_run_takes_the_presence_thresholds(bundle_path, tmp_path):
    """--min-presence reaches the recognizer: a threshold no presence reaches
    reports no hand where the bundle's own finds one; out-of-range values are refused."""
    import cv2

    for i in range(2):
        cv2.imwrite(str(tmp_path / f"{i}.jpg"), red_stroke_frame())
    base = ["run", "--source", str(tmp_path), "--bundle", str(bundle_path), "--json"]
    found = [len(json.loads(x)["hands"]) for x in runner.invoke(app, base).output.strip().splitlines()]
    assert found == [1, 1]
    r = runner.invoke(app, base + ["--min-presence", "1.0", "--min-tracking-presence", "1.0"])
    assert r.exit_code == 0, r.output
    assert [len(json.loads(x)["hands"]) for x in r.output.strip().splitlines()] == [0, 0]
    r = runner.invoke(app, base + ["--min-presence", "1.5"])
    assert r.exit_code == 2 and "Traceback" not in r.output
