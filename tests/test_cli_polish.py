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
    assert "image mode [####################] 5/5 frames" in r.output and "video mode [" in r.output
    monkeypatch.setattr(hb, "default_bundle_path", lambda: None)
    r = runner.invoke(app, ["profile"])
    assert r.exit_code == 2 and "--bundle" in r.output


def test_version_and_short_help():
    from handsdk import __version__

    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"handsdk {__version__}"
    for args in (["-h"], ["run", "-h"], ["bundle", "inspect", "-h"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0 and "Usage" in r.output, args


def _folder_with_a_tiny_and_a_corrupt_image(tmp_path):
    import cv2

    d = tmp_path / "imgs"
    d.mkdir()
    cv2.imwrite(str(d / "a.jpg"), red_stroke_frame())
    cv2.imwrite(str(d / "b.png"), np.zeros((5, 5, 3), np.uint8))  # under 8 px
    (d / "c.jpg").write_bytes(b"not a jpeg")
    cv2.imwrite(str(d / "d.jpg"), red_stroke_frame(box=(200, 20, 300, 200)))
    return d


def test_run_on_a_folder_names_each_image_and_skips_tiny_and_corrupt_files(bundle_path, tmp_path):
    d = _folder_with_a_tiny_and_a_corrupt_image(tmp_path)
    r = runner.invoke(app, ["run", "--source", str(d), "--bundle", str(bundle_path), "--no-window"])
    assert r.exit_code == 0, r.output
    out = r.output
    assert f"image 1/4 path: {d / 'a.jpg'}" in out and f"image 4/4 path: {d / 'd.jpg'}" in out
    assert "skipping image 2/4" in out and "too small (5x5" in out and "skipping image 3/4" in out
    assert "Traceback" not in out and "2 frames" in out
    r = runner.invoke(app, ["run", "--source", str(d), "--bundle", str(bundle_path), "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert [(x["frame"], x["path"], x["images"]) for x in rows] == [(1, str(d / "a.jpg"), 4), (4, str(d / "d.jpg"), 4)]
    # keypoints rounded like boxes (no float32 tails such as 123.45000457763672)
    kp = rows[0]["hands"][0]["keypoints"]
    assert all(len(repr(v).split(".")[-1]) <= 2 for pt in kp for v in pt[:2])


def test_capture_from_a_folder_skips_a_tiny_image(bundle_path, tmp_path):
    d = _folder_with_a_tiny_and_a_corrupt_image(tmp_path)
    r = runner.invoke(app, ["capture", "--source", str(d), "--label", "open_palm", "-o", str(tmp_path / "ds"),
                            "--bundle", str(bundle_path)])
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output and "open_palm +2" in r.output
    assert "warning: skipping image 2/4" in r.output and "too small" in r.output


def test_boxes_are_clipped_to_the_image(bundle_path):
    from handsdk import GestureRecognizer

    frame = red_stroke_frame(box=(250, 150, 319, 239), green_at=(316, 236))  # a hand at the corner
    with GestureRecognizer.create(bundle_path) as rec:
        r = rec.recognize(frame)
    assert r.hands
    for h in r.hands:
        assert h.box[0] >= 0 and h.box[1] >= 0 and h.box[2] <= 320 and h.box[3] <= 240


def test_run_accepts_stream_urls(bundle_path, monkeypatch):
    import handsdk.sources as src

    opened = []

    class FakeStream:
        def __init__(self):
            self.n = 0

        def read(self):
            self.n += 1
            return (self.n <= 3), red_stroke_frame()

        def get(self, prop):
            return 0.0

        def release(self):
            pass

    def fake_open(url):
        opened.append(url)
        return FakeStream()

    monkeypatch.setattr(src, "open_stream", fake_open)
    r = runner.invoke(app, ["run", "--source", "rtsp://cam.local:554/stream1", "--bundle", str(bundle_path),
                            "--no-window", "--max-frames", "2"])
    assert r.exit_code == 0, r.output
    assert opened == ["rtsp://cam.local:554/stream1"] and "2 frames" in r.output
    assert src.is_stream_url("http://host/video.mjpg") and not src.is_stream_url("clip.mp4")
    r = runner.invoke(app, ["run", "--help"])
    assert "rtsp://" in r.output and "http://" in r.output


def test_a_video_corrupt_midway_warns(bundle_path, tmp_path):
    import cv2

    p = tmp_path / "v.avi"
    w = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"MJPG"), 30, (320, 240))
    for i in range(40):
        w.write(red_stroke_frame())
    w.release()
    b = p.read_bytes()
    n = len(b)
    p.write_bytes(b[: n // 3] + bytes(n // 3) + b[2 * n // 3:])  # a third of the file zeroed
    r = runner.invoke(app, ["run", "--source", str(p), "--bundle", str(bundle_path), "--no-window"])
    assert "warning:" in r.output and "ended after" in r.output and "of its 40 frames" in r.output


def test_camera_errors_suggest_options_the_command_has(monkeypatch, bundle_path, tmp_path):
    import handsdk.sources as src

    class Closed:
        def isOpened(self):
            return False

        def release(self):
            pass

    monkeypatch.setattr(src, "_cv2", lambda: type("cv2", (), {"VideoCapture": lambda *a: Closed()})())
    r = runner.invoke(app, ["capture", "--camera", "3", "--label", "x", "-o", str(tmp_path / "ds"),
                            "--bundle", str(bundle_path), "--no-window"])
    assert r.exit_code != 0 and "camera 3 could not be opened" in r.output and "--demo" not in r.output
    r = runner.invoke(app, ["run", "--camera", "3", "--bundle", str(bundle_path), "--no-window"])
    assert r.exit_code != 0 and "--demo" in r.output


@pytest.mark.slow
def test_data_preview_output_errors_and_tile(tmp_path):
    pytest.importorskip("tensorflow")
    r = runner.invoke(app, ["data", "preview", "-s", "synthetic", "-n", "2", "-o", str(tmp_path / "missing" / "x.png")])
    assert r.exit_code == 1 and "does not exist" in r.output and "wrote" not in r.output
    r = runner.invoke(app, ["data", "preview", "-s", "synthetic", "-n", "2", "-o", str(tmp_path / "x.jpgx")])
    assert r.exit_code == 1 and "must end in one of" in r.output
    r = runner.invoke(app, ["data", "preview", "-s", "synthetic", "-n", "2", "-o", str(tmp_path / "x.png"),
                            "--tile", "64"])
    assert r.exit_code == 0, r.output
    import cv2

    assert cv2.imread(str(tmp_path / "x.png")).shape[0] == 64


from tests.conftest import needs_data  # noqa: E402


@needs_data
def test_data_preview_of_keypoint_only_samples_is_not_blank(tmp_path):
    import cv2

    out = tmp_path / "kp.png"
    r = runner.invoke(app, ["data", "preview", "-s", "gesture_keypoints_csv", "-n", "4", "-o", str(out),
                            "--tile", "128"])
    assert r.exit_code == 0, r.output
    img = cv2.imread(str(out))
    assert img.shape[:2] == (256, 256)
    sat = img.max(axis=2).astype(int) - img.min(axis=2)
    for tile in (img[:128, :128], img[:128, 128:], img[128:, :128], img[128:, 128:]):
        s = tile.max(axis=2).astype(int) - tile.min(axis=2)
        assert (s > 100).sum() > 200  # coloured bones and joints in every tile
    assert sat.any()


def test_console_script_hides_native_start_up_noise_unless_verbose(bundle_path):
    import shutil
    import subprocess

    exe = shutil.which("handsdk")
    if exe is None:
        pytest.skip("console script not installed")
    r = subprocess.run([exe, "bundle", "inspect", str(bundle_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "tiny" in r.stdout
    assert "XNNPACK" not in r.stderr and "I0000" not in r.stderr and "absl" not in r.stderr, r.stderr
    r = subprocess.run([exe, "bundle", "inspect", str(bundle_path), "--verbose"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and "XNNPACK" in r.stderr


@pytest.mark.slow
def test_int8_conversion_reports_calibration_progress():
    pytest.importorskip("tensorflow")
    from handsdk.convert.api import Trained, convert_model
    from tests.conftest import tiny_gesture

    rng = np.random.default_rng(0)
    calib = [{"keypoints": rng.uniform(-1, 1, (1, 21, 2)).astype(np.float32)} for _ in range(8)]
    lines = []
    convert_model(Trained("gesture:commands", tiny_gesture(3), {}, "mem"), "int8", calib, progress=lines.append)
    bars = [x for x in lines if "calibrating [" in x]
    assert bars and bars[-1].strip().startswith("gesture:commands: calibrating [####################] 8/8")


def test_build_default_help_and_readme_agree_on_time_and_worker_path():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    r = runner.invoke(app, ["build-default", "--help"])
    import re

    help_time = re.search(r"about\s+([\d.]+)\s+hours", " ".join(r.output.split()))
    readme_time = re.search(r"about\s+([\d.]+)\s+hours", " ".join(readme.split()))
    assert help_time and readme_time and help_time.group(1) == readme_time.group(1)
    assert "benchmarks/mediapipe_worker.py" not in readme and "train/mediapipe/hand_worker.py" in readme
    assert (Path(__file__).resolve().parents[1] / "train" / "mediapipe" / "hand_worker.py").is_file()


def test_run_reports_a_pipeline_failure_mid_run_without_a_traceback(bundle_path, tmp_path, monkeypatch):
    import cv2

    from handsdk.stages import HandLandmarker

    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.jpg"), red_stroke_frame())
    calls = [0]
    real = HandLandmarker.landmark_rgb

    def flaky(self, *a, **k):
        calls[0] += 1
        if calls[0] > 1:
            raise RuntimeError("tensor 12: unsupported zero point")
        return real(self, *a, **k)

    monkeypatch.setattr(HandLandmarker, "landmark_rgb", flaky)
    r = runner.invoke(app, ["run", "--source", str(tmp_path), "--bundle", str(bundle_path), "--no-window"])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "processing frame 2" in r.output and "unsupported zero point" in r.output and "image 1/3" in r.output
