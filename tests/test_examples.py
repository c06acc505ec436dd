"""The examples run as written (subprocesses, the tiny test bundle, a tiny
generated video and image folders), so they cannot rot."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import red_stroke_frame

REPO = Path(__file__).resolve().parents[1]


def _run(script, *args, timeout=120):
    p = subprocess.run([sys.executable, str(REPO / "examples" / script), *map(str, args)], capture_output=True,
                       text=True, timeout=timeout, cwd=REPO)
    return p


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    import cv2

    path = tmp_path_factory.mktemp("ex") / "clip.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for i in range(8):
        w.write(red_stroke_frame(green_at=(130 + 2 * i, 110)))
    w.release()
    return path


def test_examples_all_have_bundle_and_source_args():
    scripts = sorted(p.name for p in (REPO / "examples").glob("*.py"))
    assert scripts == ["command_app.py", "custom_gesture.py", "embed_loop.py", "spelling_app.py"]
    for s in scripts:
        text = (REPO / "examples" / s).read_text()
        assert '"--bundle"' in text and '"--source"' in text, s


def test_embed_loop(bundle_path, video):
    p = _run("embed_loop.py", "--bundle", bundle_path, "--source", video)
    assert p.returncode == 0, p.stderr
    lines = [x for x in p.stdout.splitlines() if x.startswith("t=")]
    assert len(lines) == 8 and all("hand #1 " in x for x in lines) and "commands=" in lines[0]
    assert "done: 8 frames" in p.stdout
    p = _run("embed_loop.py", "--bundle", bundle_path, "--source", "/nonexistent.mp4")
    assert p.returncode != 0 and "source not found" in p.stderr and "Traceback" not in p.stderr


def test_command_app(bundle_path, video):
    p = _run("command_app.py", "--bundle", bundle_path, "--source", video)
    assert p.returncode == 0, p.stderr
    # played in real time (10 fps): few or no frames are stale
    assert "done: 8 frames sent" in p.stdout
    processed = int(p.stdout.split("sent, ")[1].split()[0])
    assert processed >= 6


def test_spelling_app(bundle_path, video):
    p = _run("spelling_app.py", "--bundle", bundle_path, "--source", video, "--hold-ms", "100")
    assert p.returncode == 0, p.stderr
    assert "gesture set 'letters'" in p.stdout and "text: " in p.stdout


def _gesture_folders(root, n=3):
    import cv2

    for label, x in (("left", 120), ("right", 200)):
        (root / label).mkdir(parents=True)
        for i in range(n):
            cv2.imwrite(str(root / label / f"{i}.png"), red_stroke_frame(green_at=(x + i, 110)))
    (root / "empty").mkdir()


def test_custom_gesture_without_training(bundle_path, video, tmp_path):
    _gesture_folders(tmp_path / "g")
    p = _run("custom_gesture.py", "--bundle", bundle_path, "--data", tmp_path / "g", "--source", video, "--centroid")
    assert p.returncode == 0, p.stderr
    assert "keypoints from images: left (3 images), right (3 images)" in p.stdout
    assert "nearest-centroid" in p.stdout
    assert len([x for x in p.stdout.splitlines() if "hand #1:" in x]) == 8 and "done: 8 frames" in p.stdout
    p = _run("custom_gesture.py", "--bundle", bundle_path, "--data", tmp_path / "nope", "--source", video)
    assert p.returncode != 0 and "not a folder" in p.stderr


@pytest.mark.slow
def test_custom_gesture_trains_a_gesturenet_bundle(bundle_path, video, tmp_path):
    pytest.importorskip("tf_keras")
    _gesture_folders(tmp_path / "g", n=8)
    out = tmp_path / "mine.handsdk"
    p = _run("custom_gesture.py", "--bundle", bundle_path, "--data", tmp_path / "g", "--source", video,
             "-o", out, "--seconds", "15", timeout=300)
    assert p.returncode == 0, p.stderr
    assert "trained GestureNet 'custom'" in p.stdout and out.is_file()
    from handsdk import load_bundle

    assert {"left", "right"} <= set(load_bundle(out).gesture_sets["custom"].labels)
    hands = [x for x in p.stdout.splitlines() if "hand #1:" in x]
    assert len(hands) == 8 and "done: 8 frames" in p.stdout
