"""`handsdk bench`: report logic on fake MediaPipe results, the worker
protocol with a fake worker, data selection, and SDK-only output when there is
no MediaPipe environment. Nothing here installs or imports mediapipe."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, needs_data, red_stroke_frame

from handsdk.tools.bench import machine_info
from handsdk.tools.bench_metrics import build_report, localised
from handsdk.tools.bench_report import format_markdown, format_text, to_json
from handsdk.tools.bench_samples import (DEFAULT_SETS, SCENE_SETS, has_hand, latency_images, letterbox_43,
                                         pseudo_keypoints, select_samples)
from handsdk.tools.bench_systems import _gesture_map, run_mediapipe_accuracy, run_mediapipe_latency
from handsdk.results import Category
from handsdk.train.data.registry import spread
from handsdk.train.data.sample import Sample
from handsdk.train.mediapipe.env import MediaPipeUnavailable, anchors_dir, ensure_mediapipe, model_path, run_worker


def _hand_kp(x0, y0, size=40.0):
    """A fake 21-keypoint hand spread over a square at (x0, y0)."""
    t = np.linspace(0, 1, 21)
    return np.stack([x0 + size * t, y0 + size * ((t * 7) % 1)], 1).astype(np.float32)


def _hd(kp, handed="Right", gesture=None, gset="letters"):
    d = {"keypoints": np.asarray(kp).tolist(), "handedness": handed, "score": 0.9}
    if gesture is not None:
        d["gestures"] = {gset: gesture}
    return d


class FakeClassifier:
    """GestureNet stand-in: the label is 'A' when the hand is a Right hand."""

    gesture_set = "letters"
    labels = ("A", "B")

    def classify(self, keypoints, handedness=None):
        assert np.asarray(keypoints).shape[0] == 21
        top = "A" if handedness == "Right" else "B"
        return (Category(top, 0.9, self.labels.index(top)),)


def _fake_inputs():
    letters = []
    for i in range(4):
        kp = _hand_kp(10 + i, 20)
        s = Sample(image=None, boxes=np.array([[10 + i, 20, 50 + i, 60]], np.float32),
                   keypoints=np.concatenate([kp, np.ones((21, 1), np.float32)], 1)[None],
                   keypoint_source="mediapipe", label="A", label_set="asl_letters", source="asl_letters")
        letters.append(s)
    gt = _hand_kp(100, 100, 50)
    human = [Sample(image=None, keypoints=np.concatenate([gt, np.ones((21, 1), np.float32)], 1)[None],
                    keypoint_source="human", source="hand_keypoints_gt") for _ in range(2)]
    samples = {"asl_letters": letters, "hand_keypoints_gt": human}
    keys = {"asl_letters": [f"l{i}" for i in range(4)], "hand_keypoints_gt": ["h0", "h1"]}
    # SDK: finds 2 of 4 letters (one right 'A', one wrong 'B'), the human hands 5 px off
    sdk = {"l0": [_hd(letters[0].keypoints[0, :, :2], gesture="A")],
           "l1": [_hd(letters[1].keypoints[0, :, :2], gesture="B")], "l2": [], "l3": [],
           "h0": [_hd(gt + 5)], "h1": [_hd(gt + 5)]}
    # MediaPipe: finds all letters (3 Right -> 'A', 1 Left -> 'B'), human hands 1 px off, one missed
    mp = {"l0": [_hd(letters[0].keypoints[0, :, :2])], "l1": [_hd(letters[1].keypoints[0, :, :2])],
          "l2": [_hd(letters[2].keypoints[0, :, :2])], "l3": [_hd(letters[3].keypoints[0, :, :2], "Left")],
          "h0": [_hd(gt + 1)], "h1": []}
    lat_sdk = {"320x240": {"image_ms": [10.0, 12.0, 11.0], "video_ms": [4.0, 4.0, 5.0], "image_hands": [1, 1, 1],
                           "video_tracked": [True, True, True]}}
    lat_mp = {"320x240": {"image_ms": [30.0, 31.0, 29.0], "video_ms": [6.0, 6.0, 7.0], "image_hands": [1, 1, 1]}}
    return samples, keys, sdk, mp, lat_sdk, lat_mp


def test_report_numbers_and_targets_on_fake_mediapipe():
    samples, keys, sdk, mp, lat_sdk, lat_mp = _fake_inputs()
    rep = build_report(samples, keys, sdk, mp, classifiers={"asl_letters": FakeClassifier()},
                         sdk_latency=lat_sdk, mp_latency=lat_mp)
    det = {r["set"]: r for r in rep["detection"]}
    assert det["asl_letters"]["sdk"] == 0.5 and det["asl_letters"]["mediapipe"] == 1.0
    assert det["asl_letters"]["pass"] is False            # MediaPipe ahead: shown as such
    assert det["hand_keypoints_gt"]["sdk"] == 1.0 and det["hand_keypoints_gt"]["mediapipe"] == 0.5
    assert det["hand_keypoints_gt"]["pass"] is True
    # human boxes (here from the human keypoints) say where the hand is: the target uses them
    assert det["hand_keypoints_gt"]["sdk_localised"] == 1.0 and det["hand_keypoints_gt"]["mediapipe_localised"] == 0.5
    assert det["hand_keypoints_gt"]["pass_on"] == "localised" and det["asl_letters"]["pass_on"] == "found"
    box = np.array([[100, 100, 150, 150]], np.float32)
    assert localised(box, [_hd(_hand_kp(105, 100, 50))]) and not localised(box, [_hd(_hand_kp(300, 300))])
    kh = rep["keypoints_human"]
    assert kh["hands"] == 2 and kh["sdk"]["hands"] == 2 and kh["mediapipe"]["hands"] == 1
    assert kh["sdk"]["mean_error_px"] == pytest.approx(5 * np.sqrt(2), rel=1e-4)
    assert kh["mediapipe"]["mean_error_px"] == pytest.approx(np.sqrt(2), rel=1e-4)
    assert kh["both_found"]["hands"] == 1
    (ag,) = rep["agreement"]
    assert ag["set"] == "asl_letters" and ag["sdk"]["hands"] == 2 and ag["sdk"]["pck@0.1"] == 1.0
    assert ag["mediapipe_live"]["hands"] == 4
    (g,) = rep["gestures"]
    assert g["samples"] == 4 and g["sdk_end_to_end"] == 0.25 and g["gesturenet_on_mediapipe"] == 0.75
    assert g["sdk_no_hand"] == 2 and g["mediapipe_no_hand"] == 0 and g["pass"] is False
    lat = {(r["size"], r["mode"]): r for r in rep["latency"]}
    assert lat[("320x240", "detection")]["ratio"] == pytest.approx(11 / 30)
    assert lat[("320x240", "detection")]["pass"] is True
    assert lat[("320x240", "tracking")]["ratio"] == pytest.approx(4 / 6)
    assert lat[("320x240", "tracking")]["pass"] is False
    t = {x["target"].split()[0]: x for x in rep["targets"]}
    assert t["latency"]["passed"] == 1 and t["latency"]["checked"] == 2 and t["latency"]["pass"] is False
    assert t["detection"]["pass"] is False and t["letters"]["pass"] is False


def test_tables_text_and_markdown():
    samples, keys, sdk, mp, lat_sdk, lat_mp = _fake_inputs()
    rep = build_report(samples, keys, sdk, mp, classifiers={"asl_letters": FakeClassifier()},
                         sdk_latency=lat_sdk, mp_latency=lat_mp)
    rep.update(machine=machine_info(), bundle="x.handsdk",
               mediapipe={"available": True, "version": "9.9", "model": "full.task"})
    txt = format_text(rep)
    assert "machine:" in txt and "cores" in txt
    assert "Hands found" in txt and "50.0%" in txt and "100.0%" in txt and "-50.0" in txt
    assert "0.37x" in txt and "FAIL" in txt and "PASS" in txt
    md = format_markdown(rep)
    assert "| set | images | SDK | MediaPipe |" in md
    assert md.count("|---|") >= 4
    json.loads(to_json(rep))


def test_stage_times_table_and_motion_target():
    samples, keys, sdk, mp, lat_sdk, lat_mp = _fake_inputs()
    lat_sdk["320x240"]["image_stage_ms"] = {"detect": [6.0, 7.0, 8.0], "landmark": [3.0, 3.0, 4.0],
                                            "gesture": [0.1, 0.1, 0.2]}
    lat_sdk["320x240"]["video_stage_ms"] = {"detect": [0.0, 0.0, 0.0], "landmark": [3.0, 3.5, 3.0],
                                            "gesture": [0.1, 0.1, 0.1], "motion": [0.05, 0.2, 0.25]}
    rep = build_report(samples, keys, sdk, mp, classifiers={"asl_letters": FakeClassifier()},
                       sdk_latency=lat_sdk, mp_latency=lat_mp)
    lat = {(r["size"], r["mode"]): r for r in rep["latency"]}
    assert lat[("320x240", "detection")]["sdk_stage_ms"] == {"detect": 7.0, "landmark": 3.0, "gesture": 0.1}
    assert lat[("320x240", "tracking")]["sdk_stage_ms"]["motion"] == pytest.approx(0.2)
    (t,) = [x for x in rep["targets"] if x["target"].startswith("motion stage")]
    assert t["checked"] == 1 and t["pass"] is False              # 0.2 ms > 0.1 ms
    rep.update(machine=machine_info(), bundle="x.handsdk", mediapipe={"available": True})
    txt = format_text(rep)
    assert "SDK time per stage" in txt and "motion" in txt
    # no motion set (no motion times): the target is not checked
    del lat_sdk["320x240"]["video_stage_ms"]["motion"]
    rep = build_report(samples, keys, sdk, mp, sdk_latency=lat_sdk, mp_latency=lat_mp)
    (t,) = [x for x in rep["targets"] if x["target"].startswith("motion stage")]
    assert t["checked"] == 0 and t["pass"] is None


def test_latency_not_comparable_when_sdk_finds_no_hand():
    lat_sdk = {"160x120": {"image_ms": [1.0], "video_ms": [1.0], "image_hands": [0], "video_tracked": [False]}}
    lat_mp = {"160x120": {"image_ms": [30.0], "video_ms": [10.0], "image_hands": [1]}}
    rep = build_report({}, {}, {}, {}, sdk_latency=lat_sdk, mp_latency=lat_mp)
    assert all(r["pass"] is None and r["pass_raw"] is True and r["not_comparable"] for r in rep["latency"])
    t = rep["targets"][0]
    assert t["pass"] is None and t["not_comparable"] == 2
    rep.update(mediapipe={"available": True})
    assert "NOT COMPARABLE" in format_text(rep)


def test_sdk_only_report_has_no_mediapipe_numbers():
    samples, keys, sdk, _, lat_sdk, _ = _fake_inputs()
    rep = build_report(samples, keys, sdk, None, classifiers={"asl_letters": FakeClassifier()},
                         sdk_latency=lat_sdk)
    assert all(r["mediapipe"] is None and r["pass"] is None for r in rep["detection"])
    assert rep["gestures"][0]["gesturenet_on_mediapipe"] is None
    assert all(r["mediapipe_ms"] is None and r["ratio"] is None for r in rep["latency"])
    assert all(t["pass"] is None for t in rep["targets"])
    rep.update(mediapipe={"available": False, "message": "no venv"})
    txt = format_text(rep)
    assert "MediaPipe: NOT AVAILABLE - no venv" in txt and "50.0%" in txt


def test_worker_protocol_with_a_fake_worker(tmp_path):
    """run_worker writes the job, runs the script with the venv's python and
    reads its JSON; a failing worker gives MediaPipeUnavailable with the reason."""
    fake = tmp_path / "fake_worker.py"
    fake.write_text(
        "import json, sys\n"
        "job = json.load(open(sys.argv[1]))\n"
        "res = {'mediapipe_version': 'fake', 'accuracy': {k: [] for k in job['accuracy']['keys']}, 'latency': {}}\n"
        "json.dump(res, open(job['out'], 'w'))\n")
    r = run_worker(sys.executable, {"model": "m.task", "frames": "f.npz", "accuracy": {"keys": ["a", "b"]}},
                     tmp_path, worker=fake)
    assert r["accuracy"] == {"a": [], "b": []} and r["mediapipe_version"] == "fake"
    bad = tmp_path / "bad_worker.py"
    bad.write_text("import sys; sys.stderr.write('no module named mediapipe'); sys.exit(1)\n")
    with pytest.raises(MediaPipeUnavailable, match="no module named mediapipe"):
        run_worker(sys.executable, {"model": "m", "frames": "f"}, tmp_path, worker=bad)


def test_worker_progress_reaches_the_log_and_errors_keep_the_rest(tmp_path):
    """A worker's "progress: " stderr lines go to ``log`` as they come; its
    other stderr is what a failure reports; a worker that runs too long is
    stopped with MediaPipeUnavailable."""
    w = tmp_path / "chatty_worker.py"
    w.write_text("import json, sys\n"
                 "job = json.load(open(sys.argv[1]))\n"
                 "for i in (1, 2):\n"
                 "    print(f'progress: {i}/2 images', file=sys.stderr, flush=True)\n"
                 "print('a warning', file=sys.stderr)\n"
                 "json.dump({'faces': {}}, open(job['out'], 'w'))\n")
    seen = []
    assert run_worker(sys.executable, {}, tmp_path, worker=w, what="the face worker", log=seen.append) == {"faces": {}}
    assert seen == ["  the face worker: 1/2 images", "  the face worker: 2/2 images"]
    bad = tmp_path / "bad_worker.py"
    bad.write_text("import sys\nprint('progress: 1/9', file=sys.stderr)\nsys.stderr.write('cv2 missing')\nsys.exit(3)\n")
    with pytest.raises(MediaPipeUnavailable, match="cv2 missing") as e:
        run_worker(sys.executable, {}, tmp_path, worker=bad)
    assert "progress" not in str(e.value)
    slow = tmp_path / "slow_worker.py"
    slow.write_text("import time\ntime.sleep(30)\n")
    with pytest.raises(MediaPipeUnavailable, match="ran past 1 s"):
        run_worker(sys.executable, {}, tmp_path, worker=slow, timeout=1)


def test_worker_converts_results_to_pixels():
    spec = importlib.util.spec_from_file_location("mp_worker", REPO / "train" / "mediapipe" / "hand_worker.py")
    w = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(w)

    class P:
        def __init__(self, x, y, z):
            self.x, self.y, self.z = x, y, z

    class C:
        category_name, score = "Left", 0.8

    class R:
        hand_landmarks = [[P(0.5, 0.25, 0.1)] * 21]
        handedness = [[C()]]

    (h,) = w._hands(R(), 200, 100)
    assert h["keypoints"][0] == pytest.approx([100.0, 25.0, 20.0])
    assert h["handedness"] == "Left" and h["score"] == 0.8 and len(h["keypoints"]) == 21


def test_missing_mediapipe_venv_gives_a_clear_message(tmp_path):
    with pytest.raises(MediaPipeUnavailable) as e:
        ensure_mediapipe(tmp_path / "no-venv", install=False)
    assert "pip install mediapipe" in str(e.value) and "no-venv" in str(e.value)


def test_helpers(tmp_path, monkeypatch):
    assert spread(10, None) == list(range(10)) and spread(10, 3) == [0, 4, 9] and spread(2, 5) == [0, 1]
    img = np.full((100, 100, 3), 255, np.uint8)
    out = letterbox_43(img, (160, 120))
    assert out.shape == (120, 160, 3) and out[:, :10].max() == 0 and out[60, 80].min() == 255
    d = tmp_path / "anchors" / "mediapipe"
    d.mkdir(parents=True)
    (d / "hand_landmarker_full.task").write_bytes(b"x")
    monkeypatch.setenv("HANDSDK_ANCHORS", str(tmp_path / "anchors"))
    assert model_path(None, "full") == (d / "hand_landmarker_full.task").resolve()
    with pytest.raises(FileNotFoundError):
        model_path(None, "lite")
    with pytest.raises(FileNotFoundError, match="--anchors"):
        anchors_dir(tmp_path / "nothing")
    assert _gesture_map({"letters": ("A", "B")}, "asl_letters") == "letters"
    assert _gesture_map({"cmd": ("none", "fist", "open_palm")}, "custom", {"fist", "open_palm"}) == "cmd"
    assert _gesture_map({"cmd": ("none", "fist")}, "custom", {"x", "y"}) is None


def test_select_samples_skips_absent_sets(tmp_path):
    chosen, skipped = select_samples(["asl_letters", "hand_keypoints_gt"], root=tmp_path, limit=3,
                                       log=lambda m: None)
    assert chosen == {} and set(skipped) == {"asl_letters", "hand_keypoints_gt"}
    assert "not found" in skipped["asl_letters"]


@needs_data
@pytest.mark.data
def test_select_samples_on_shared_data():
    chosen, skipped = select_samples(list(DEFAULT_SETS), limit=3, log=lambda m: None)
    assert set(chosen) | set(skipped) == set(DEFAULT_SETS)
    for name, ss in chosen.items():
        assert 1 <= len(ss) <= 3 and all(s.image is not None and s.image.ndim == 3 for s in ss)
    if "hand_keypoints_gt" in chosen:
        assert all(s.keypoint_source == "human" for s in chosen["hand_keypoints_gt"])
    if "asl_letters" in chosen:
        assert all(s.label_set == "asl_letters" and has_hand("asl_letters", s) for s in chosen["asl_letters"])
        assert latency_images(chosen, 2)


@needs_data
@pytest.mark.data
def test_select_samples_far_view_shrinks_a_scene_set_and_its_labels():
    near, _ = select_samples(["webcam_finger_counts"], limit=2, log=lambda m: None)
    far, _ = select_samples(["webcam_finger_counts@0.4"], limit=2, log=lambda m: None)
    for a, b in zip(near["webcam_finger_counts"], far["webcam_finger_counts@0.4"]):
        assert a.image.shape == b.image.shape and a.path == b.path
        ha, hb = np.asarray(a.extras["human_boxes"]), np.asarray(b.extras["human_boxes"])
        np.testing.assert_allclose((hb[:, 2:] - hb[:, :2]), 0.4 * (ha[:, 2:] - ha[:, :2]), rtol=0.02)
    with pytest.raises(ValueError, match="shrink factor"):
        select_samples(["webcam_finger_counts@2"], limit=1, log=lambda m: None)


@needs_data
@pytest.mark.data
def test_select_samples_aspect_view_widens_the_stretched_studio_frames():
    stored, _ = select_samples(["asl_signers_studio"], limit=2, log=lambda m: None)
    wide, _ = select_samples(["asl_signers_studio~4:3"], limit=2, log=lambda m: None)
    assert "asl_signers_studio~4:3" in SCENE_SETS
    for a, b in zip(stored["asl_signers_studio"], wide["asl_signers_studio~4:3"]):
        assert a.path == b.path and b.image.shape[0] == a.image.shape[0]
        assert b.image.shape[1] == round(a.image.shape[0] * 4 / 3)
        ka, kb = pseudo_keypoints(a), pseudo_keypoints(b)
        np.testing.assert_allclose(kb[..., 0], ka[..., 0] * b.image.shape[1] / a.image.shape[1], rtol=1e-5)


def _gesture_folder(root: Path) -> Path:
    import cv2

    for label in ("fist", "open_palm"):
        (root / label).mkdir(parents=True)
        for i in range(2):
            img = red_stroke_frame(120, 160, box=(40 + 5 * i, 30, 100, 90), green_at=(70, 60))
            cv2.imwrite(str(root / label / f"{i}.png"), img)
    return root


def test_cli_bench_without_mediapipe_prints_sdk_columns(bundle_path, tmp_path):
    from typer.testing import CliRunner

    from handsdk.cli import app

    folder = _gesture_folder(tmp_path / "gestures")
    js, md = tmp_path / "b.json", tmp_path / "b.md"
    r = CliRunner().invoke(app, ["bench", "--bundle", str(bundle_path), "--mediapipe-venv",
                                 str(tmp_path / "no-venv"), "--no-install", "--sets", f"{folder},asl_nope",
                                 "--sizes", "160x120,320x240", "--latency-images", "2", "--rounds", "1",
                                 "--warmup", "1", "--clip-len", "2", "--repeats", "1", "--json", str(js), "--markdown", str(md)])
    assert r.exit_code == 0, r.output
    out = r.output
    assert "MediaPipe: NOT AVAILABLE" in out and "pip install mediapipe" in out
    assert "Hands found" in out and "100.0%" in out            # the red strokes are found
    assert "skipped asl_nope" in out
    rep = json.loads(js.read_text())
    assert rep["mediapipe"]["available"] is False
    assert {r_["size"] for r_ in rep["latency"]} == {"160x120", "320x240"}
    assert all(r_["sdk_ms"] is not None and r_["mediapipe_ms"] is None for r_ in rep["latency"])
    # each latency row says where the SDK's time went, stage by stage (pooled over both repeats' frames)
    assert all({"detect", "landmark", "gesture"} <= set(r_["sdk_stage_ms"]) for r_ in rep["latency"])
    assert "SDK time per stage" in out
    assert rep["gesture_sets"] == {"custom": "commands"} and rep["gestures"][0]["samples"] == 4
    assert "| set |" in md.read_text()


def test_cli_bench_rejects_bad_options(bundle_path, tmp_path):
    from typer.testing import CliRunner

    from handsdk.cli import app

    r = CliRunner().invoke(app, ["bench", "--bundle", str(bundle_path), "--model", "huge"])
    assert r.exit_code == 2 and "full" in r.output
    r = CliRunner().invoke(app, ["bench", "--bundle", str(tmp_path / "none.handsdk")])
    assert r.exit_code == 2 and "does not exist" in r.output


def test_module_map_and_mediapipe_jobs(tmp_path):
    """bench is split along its seams (the numbers and tables import no
    training code); the MediaPipe jobs keep their shape (a fake worker echoes
    them back)."""
    import subprocess

    # the numbers and tables are pure numpy: no TensorFlow; of the training code only its metrics and the
    # MediaPipe environment (with the progress of its pip install)
    code = ("import sys, handsdk.tools.bench_metrics, handsdk.tools.bench_report, handsdk.train.mediapipe.env\n"
            "print(sorted(m for m in sys.modules if m.startswith(('handsdk.train', 'tensorflow'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("['handsdk.train', 'handsdk.train.mediapipe', 'handsdk.train.mediapipe.env', "
                                  "'handsdk.train.metrics']"), out.stdout
    echo = tmp_path / "echo_worker.py"
    echo.write_text("import json, sys\njob = json.load(open(sys.argv[1]))\n"
                    "lat = {s: {'image_ms': [1.0], 'job': job['latency']} for s in job.get('latency', {}).get('sizes', {})}\n"
                    "json.dump({'accuracy': job.get('accuracy'), 'latency': lat, 'model': job['model']}, "
                    "open(job['out'], 'w'))\n")
    r = run_mediapipe_accuracy(sys.executable, "m.task", "f.npz", {"a": 1, "b": 2}, tmp_path, worker=echo)
    assert r["accuracy"] == {"keys": ["a", "b"], "num_hands": 2} and r["model"] == "m.task"
    lat = run_mediapipe_latency(sys.executable, "m.task", "f.npz", "160x120", ["lat_160x120_000"], tmp_path,
                                  warmup=1, image_rounds=2, clip_len=3, worker=echo)
    assert lat["160x120"]["job"] == {"sizes": {"160x120": ["lat_160x120_000"]}, "warmup": 1, "image_rounds": 2,
                                     "clip_len": 3, "num_hands": 1}
