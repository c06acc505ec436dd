"""Custom gestures: capture -> train -> bundle -> recognise, on generated data.

The tiny test bundle's detector/landmarker only see red strokes and green
spots, so two paths are tested:

* the capture plumbing with the real tiny pipeline on a video of red-stroke
  frames (counts, files, crops, appending, errors, photo collections, CLI);
* the full loop with an *oracle* landmarker: videos rendered by the synthetic
  renderer (three ASL letters held by a hand, and ``none`` poses) are captured
  through :func:`handsdk.capture.capture_stream` from the video files, with the
  renderer's ground-truth keypoints standing in for the landmarker; then
  training, the bundle (the tiny base's detector/landmarker/sets kept), and
  recognition of the gestures in a fresh rendered video with the new bundle's
  classifier, accuracy reported.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import red_stroke_frame

CUSTOM = ("L", "Y", "W")  # asl_letters templates used as "custom" gestures


def _write_video(path: Path, frames_bgr, fps=15):
    import cv2

    h, w = frames_bgr[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert vw.isOpened()
    for f in frames_bgr:
        vw.write(np.ascontiguousarray(f))
    vw.release()
    return path


def _stroke_video(path, n=12):
    frames = []
    for i in range(n):
        if i % 4 == 3:
            frames.append(np.full((240, 320, 3), 40, np.uint8))  # no hand
        else:
            frames.append(red_stroke_frame(box=(100 + i, 60, 180 + i, 160), green_at=(140 + i, 110)))
    return _write_video(Path(path), frames)


# ------------------------------------------------------------------ capture plumbing


def test_capture_from_a_video_writes_and_appends(bundle_path, tmp_path):
    from handsdk.capture import KEYPOINTS_FILE, capture_stream, read_dataset

    video = _stroke_video(tmp_path / "strokes.avi")
    out = tmp_path / "ds"
    lines = []
    # IMAGE mode: every frame runs the detector (in VIDEO mode the tiny landmarker keeps tracking blank frames)
    rep = capture_stream(str(video), out, "stroke", bundle=bundle_path, every=2, crops=True, image_mode=True,
                         progress=lines.append)
    assert rep.error is None and rep.frames == 12
    assert rep.frames_with_hand == 9 and rep.no_hand == 3
    assert rep.added == {"stroke": 5} and rep.totals == {"stroke": 5}  # every 2nd frame with a hand
    recs = [json.loads(x) for x in (out / "stroke" / KEYPOINTS_FILE).read_text().splitlines()]
    assert len(recs) == 5 and lines
    r = recs[0]
    assert np.asarray(r["keypoints"]).shape == (21, 3)
    assert r["handedness"] in ("Left", "Right") and r["image_size"] == [320, 240]
    assert r["source"] == str(video) and r["label"] == "stroke"
    # the tiny landmarker puts every keypoint on the green dot
    assert np.allclose(np.asarray(r["keypoints"])[:, :2].mean(0), [140, 110], atol=6)
    assert all((out / "stroke" / x["crop"]).is_file() for x in recs)
    # capturing again appends (ids continue), and a truncated last line is skipped with a warning
    rep2 = capture_stream(str(video), out, "stroke", bundle=bundle_path, every=3, max_samples=2, progress=None)
    assert rep2.added == {"stroke": 2} and rep2.totals == {"stroke": 7}
    with open(out / "stroke" / KEYPOINTS_FILE, "a") as f:
        f.write('{"id": "x", "keypoints": [[1, 2')
    with pytest.warns(UserWarning, match="malformed"):
        ds = read_dataset(out)
    assert len(ds) == 7 and ds.skipped == 1 and ds.keypoints.shape == (7, 21, 3)
    assert [json.loads(x)["id"] for x in (out / "stroke" / KEYPOINTS_FILE).read_text().splitlines()[:7]] == \
        [f"{i:06d}" for i in range(7)]


def test_capture_errors_are_clear(bundle_path, tmp_path):
    from handsdk.capture import CaptureError, capture_stream, parse_keys, read_dataset
    from handsdk.sources import SourceError

    with pytest.raises(SourceError, match="not found"):
        capture_stream(str(tmp_path / "missing.mp4"), tmp_path / "ds", "x", bundle=bundle_path)
    with pytest.raises(CaptureError, match="bundle not found"):
        capture_stream(str(tmp_path), tmp_path / "ds", "x", bundle=tmp_path / "nope.handsdk")
    with pytest.raises(CaptureError, match="invalid label"):
        capture_stream(str(tmp_path), tmp_path / "ds", "../evil", bundle=bundle_path)
    with pytest.raises(CaptureError, match="nothing to record"):
        capture_stream(str(tmp_path), tmp_path / "ds", None, bundle=bundle_path)
    with pytest.raises(CaptureError, match="not found"):
        read_dataset(tmp_path / "nothing")
    assert parse_keys("0=none, 1=thumbs_up") == {48: "none", 49: "thumbs_up"}
    with pytest.raises(CaptureError, match="single digit"):
        parse_keys("a=x")

    # a camera that stops mid-capture: what was recorded stays on disk
    def frames_then_fail():
        for i in range(3):
            yield red_stroke_frame(green_at=(140, 110)), i * 33
        raise SourceError("camera 0: the camera stopped delivering frames")

    rep = capture_stream(frames_then_fail(), tmp_path / "cam", "x", bundle=bundle_path, progress=None)
    assert "stopped" in rep.error and rep.added == {"x": 3}
    assert len((tmp_path / "cam" / "x" / "keypoints.jsonl").read_text().splitlines()) == 3


def test_capture_cli_video_and_photo_collection(bundle_path, tmp_path):
    import cv2
    from typer.testing import CliRunner

    from handsdk.cli import app

    runner = CliRunner()
    video = _stroke_video(tmp_path / "v.avi")
    r = runner.invoke(app, ["capture", "--source", str(video), "--label", "stroke", "--every", "3", "--bundle",
                            str(bundle_path), "-o", str(tmp_path / "ds"), "--json"])
    assert r.exit_code == 0, r.output
    assert '"stroke": 4' in r.output  # VIDEO mode tracks through the blank frames: 12 with a hand
    # a photo collection: folder name = label
    photos = tmp_path / "photos"
    for lab, n in (("fist", 3), ("none", 2)):
        (photos / lab).mkdir(parents=True)
        for i in range(n):
            cv2.imwrite(str(photos / lab / f"{i}.png"), red_stroke_frame(green_at=(130 + 5 * i, 100)))
    cv2.imwrite(str(photos / "none" / "empty.png"), np.full((100, 100, 3), 40, np.uint8))  # no hand: skipped
    r = runner.invoke(app, ["capture", "--source", str(photos), "--bundle", str(bundle_path), "-o",
                            str(tmp_path / "ds")])
    assert r.exit_code == 0, r.output
    assert "fist +3" in r.output and "none +2" in r.output and "stroke=4" in r.output
    # clear errors
    for args, msg in ((["--source", str(tmp_path / "nope.mp4"), "--label", "x"], "source not found"),
                      (["--source", str(video), "--label", "x", "--bundle", str(tmp_path / "b.handsdk")],
                       "bundle not found"),
                      (["--label", "x"], "nothing to capture"),
                      (["--source", str(video)], "nothing to record")):
        if "--bundle" not in args:
            args = args + ["--bundle", str(bundle_path)]
        r = runner.invoke(app, ["capture", *args, "-o", str(tmp_path / "e")])
        assert r.exit_code != 0 and msg in r.output, (args, r.output)


def test_capture_cli_usage_errors_say_so_and_exit_2(bundle_path, tmp_path):
    """--keys without a window and --motion without --label are usage errors:
    their message and exit code 2, not "the pipeline failed" (typer.Exit is a
    RuntimeError, which the capture's run reads as a failed frame)."""
    from typer.testing import CliRunner

    from handsdk.cli import app

    video = _stroke_video(tmp_path / "v.avi", n=4)
    for args, msg in ((["--keys", "1=fist"], "--keys needs a preview window"),
                      (["--motion"], "--motion needs --label")):
        r = CliRunner().invoke(app, ["capture", "--source", str(video), *args, "--bundle", str(bundle_path), "-o",
                                     str(tmp_path / "ds")])
        assert r.exit_code == 2 and f"error: {msg}" in r.output and "pipeline failed" not in r.output, r.output


# ------------------------------------------------------------------ the full loop


class OracleRecognizer:
    """Stands in for the recognizer: returns the renderer's ground-truth hand
    of each frame, in order (the tiny test landmarker cannot see rendered
    hands)."""

    def __init__(self, samples):
        self.samples = list(samples)
        self.i = 0

    def recognize(self, frame, timestamp_ms=None):
        from handsdk.results import Category, Hand, RecognitionResult

        s = self.samples[self.i]
        self.i += 1
        h, w = frame.shape[:2]
        hands = []
        if len(s.keypoints):
            kp = np.asarray(s.keypoints[0], np.float32).copy()
            kp[:, 2] = 0.0
            right = s.handedness[0] == "Right"
            hands.append(Hand(box=np.array([kp[:, 0].min(), kp[:, 1].min(), kp[:, 0].max(), kp[:, 1].max()]),
                              keypoints=kp, keypoints_normalized=kp / np.array([w, h, w], np.float32),
                              presence=1.0, handedness=Category("Right" if right else "Left", 1.0, int(right))))
        return RecognitionResult(hands=tuple(hands), image_size=(w, h), timestamp_ms=timestamp_ms, timings_ms={})

    def close(self):
        pass


def _clip(steps, seed, size=(96, 128)):
    from handsdk.train.synth import render_sequence

    return render_sequence(steps, size=size, seed=seed, transition_frames=4)


def test_full_loop_capture_train_bundle_recognise(bundle_path, bundle_bytes, tmp_path):
    from handsdk import GestureClassifier, GestureRecognizer, load_bundle
    from handsdk.capture import capture_stream
    from handsdk.train.custom import CustomGestureOptions, train_custom_gestures

    t0 = time.monotonic()
    data = tmp_path / "my_gestures"
    # capture: one rendered video per gesture (two hands/scenes each) + negatives, from video files
    for k, label in enumerate(CUSTOM + ("none",)):
        for rep_i in range(2):
            steps = [("asl_letters", label, 30)] if label != "none" else \
                [("commands", "none", 10), ("commands", "none", 10), ("commands", "none", 10)]
            clip = _clip(steps, seed=100 + 10 * k + rep_i)
            video = _write_video(tmp_path / f"{label}_{rep_i}.avi", [f[..., ::-1] for f in clip.frames])
            rep = capture_stream(str(video), data, label, recognizer=OracleRecognizer(clip.samples), every=1,
                                 progress=None)
            assert rep.error is None and rep.added[label] == len(clip)
    t_capture = time.monotonic() - t0

    out = tmp_path / "mine.handsdk"
    lines = []
    report = train_custom_gestures(data, bundle_path, out, CustomGestureOptions(
        set_name="mine", epochs=12, time_budget_s=20, examples_per_epoch=2048, seed=0, threads=1),
        progress=lines.append)
    print("\n".join(lines))
    assert any(x.startswith("epoch 1/") for x in lines)
    assert report["labels"] == ["none", "L", "W", "Y"]
    assert report["validation"]["accuracy"] >= 0.85, report["validation"]
    assert Path(report["confusion_png"]).is_file() and Path(report["report_json"]).is_file()
    assert report["generic_negatives"]["used"] > 100

    # the bundle: base models and sets kept byte for byte, the new set added, provenance
    new, base = load_bundle(out), load_bundle(bundle_bytes)
    assert sorted(new.gesture_sets) == ["commands", "letters", "mine"]
    for role in ("detector", "landmarker", "gesture:commands", "gesture:letters"):
        assert new.model_bytes(role) == base.model_bytes(role)
        assert new.models[role].to_json() == base.models[role].to_json()
    assert new.gesture_sets["mine"].labels == ("none", "L", "W", "Y")
    assert new.gesture_sets["mine"].decoding["none_label"] == "none"
    prov = new.provenance["custom_gestures"]["mine"]
    assert prov["samples"]["L"] == 60 and prov["data_folder"].endswith("my_gestures")
    assert new.provenance["note"] == "test bundle"  # the base's provenance is kept

    # recognise the same gestures in a fresh video (new seed: new hand, scene, view noise)
    fresh = _clip([("asl_letters", "W", 12), ("commands", "none", 12), ("asl_letters", "L", 12),
                   ("asl_letters", "Y", 12)], seed=777)
    clf = GestureClassifier(str(out), "mine")
    oracle = OracleRecognizer(fresh.samples)
    hits = total = 0
    for frame, truth, lset in zip(fresh.frames, fresh.labels, fresh.label_sets):
        hand = oracle.recognize(frame).hands[0]
        if truth is None:
            continue  # transition frames
        want = truth if lset == "asl_letters" else "none"
        hits += clf.classify(hand.keypoints, hand.handedness.name)[0].name == want
        total += 1
    acc = hits / total
    print(f"\ncustom gestures: capture {t_capture:.1f}s, training {report['train_seconds']}s "
          f"({report['epochs']} epochs), validation accuracy {report['validation']['accuracy']:.3f} "
          f"macro-F1 {report['validation']['macro_f1']:.3f}, fresh video accuracy {acc:.3f} ({total} frames)")
    assert acc >= 0.8

    # the full runtime runs the new bundle (the tiny pipeline sees a red stroke; all three sets classified)
    with GestureRecognizer.create(str(out)) as rec:
        res = rec.recognize(red_stroke_frame(green_at=(140, 110)))
    assert len(res.hands) == 1 and set(res.hands[0].gestures) == {"commands", "letters", "mine"}
    assert {c.name for c in res.hands[0].gestures["mine"]} == {"none", "L", "W", "Y"}


def test_written_bundle_runs_without_tensorflow(bundle_path, tmp_path):
    """The bundle that training writes runs on the base install: recognise in a
    process where TensorFlow cannot be imported."""
    from handsdk.train.custom import extend_bundle

    from handsdk import load_bundle
    from handsdk.convert.tflite import keras_to_tflite
    from conftest import tiny_gesture

    out = tmp_path / "x.handsdk"
    extend_bundle(load_bundle(bundle_path), "mine", keras_to_tflite(tiny_gesture(2, seed=3)), ("none", "ok"),
                  output=out)
    code = (
        "import sys; sys.modules['tensorflow'] = None; sys.modules['tf_keras'] = None\n"
        "sys.path.insert(0, %r)\n"
        "from conftest import red_stroke_frame\n"
        "from handsdk import GestureRecognizer\n"
        "with GestureRecognizer.create(%r) as rec:\n"
        "    r = rec.recognize(red_stroke_frame(green_at=(140, 110)))\n"
        "print(sorted(r.hands[0].gestures), 'tensorflow' in sys.modules and sys.modules['tensorflow'] is not None)\n"
    ) % (str(Path(__file__).parent), str(out))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().endswith("['commands', 'letters', 'mine'] False"), p.stdout


def test_train_errors_are_clear(bundle_path, tmp_path):
    from handsdk.train.custom import CustomGestureOptions, CustomTrainingError, train_custom_gestures

    with pytest.raises(CustomTrainingError, match="not found"):
        train_custom_gestures(tmp_path / "nope", bundle_path, tmp_path / "o.handsdk")
    (tmp_path / "d" / "a").mkdir(parents=True)
    (tmp_path / "d" / "a" / "keypoints.jsonl").write_text(
        json.dumps({"keypoints": np.zeros((21, 3)).tolist(), "handedness": "Right"}) + "\n")
    with pytest.raises(CustomTrainingError, match="too few samples"):
        train_custom_gestures(tmp_path / "d", bundle_path, tmp_path / "o.handsdk")
    with pytest.raises(CustomTrainingError, match="base bundle"):
        train_custom_gestures(tmp_path / "d", tmp_path / "missing.handsdk", tmp_path / "o.handsdk")
    with pytest.raises(CustomTrainingError, match="quantization"):
        train_custom_gestures(tmp_path / "d", bundle_path, tmp_path / "o.handsdk", CustomGestureOptions(quantization="fp8"))
    (tmp_path / "dir.handsdk").mkdir()
    with pytest.raises(CustomTrainingError, match="is a folder"):
        train_custom_gestures(tmp_path / "d", bundle_path, tmp_path / "dir.handsdk")


@pytest.mark.parametrize("kw, msg", [({"quantization": "fp8"}, "quantization must be one of"),
                                     ({"set_name": "my set"}, "letters, digits"),
                                     ({"kind": "letters"}, "kind must be one of"),
                                     ({"val_fraction": 0.95}, "val_fraction must be in"),
                                     ({"epochs": 0}, "epochs must be an int >= 1"),
                                     ({"batch_size": 8.5}, r"batch_size must be an int >= 1 \(e.g. --set batch_size=64\)"),
                                     ({"generic_negatives": -1}, "generic_negatives must be an int >= 0"),
                                     ({"learning_rate": 0}, "learning_rate must be a number > 0"),
                                     ({"label_smoothing": "high"}, "label_smoothing must be a number"),
                                     ({"held_out_sources": "no"}, "held_out_sources must be True or False"),
                                     ({"augment": {"rotation_deg": 10}}, "KeypointAugment")])
def test_options_are_checked_at_construction(kw, msg):
    from handsdk.train.custom import CustomGestureOptions, CustomTrainingError

    with pytest.raises(CustomTrainingError, match=msg):
        CustomGestureOptions(**kw)


def test_options_are_frozen_and_name_the_cli_options():
    from dataclasses import FrozenInstanceError

    from handsdk.train.custom import CLI_OPTIONS, CustomGestureOptions

    o = CustomGestureOptions(generic_negatives=0, threads=1, time_budget_s=0)
    with pytest.raises(FrozenInstanceError):
        o.epochs = 3
    assert CLI_OPTIONS[:3] == ("epochs", "time_budget_s", "quantization") and "set_name" not in CLI_OPTIONS
    assert "augment" not in CLI_OPTIONS and "held_out_sources" in CLI_OPTIONS


def _template_dataset(root: Path, labels=CUSTOM, n=40, seed=0):
    """A dataset folder written directly from the renderer's template keypoints
    (in pixels, random hands and views), plus a few relaxed ``none`` hands."""
    from handsdk.train.data.sources import synthetic_keypoint_source

    rng = np.random.default_rng(seed)
    for lab in labels + ("none",):
        src = synthetic_keypoint_source("commands" if lab == "none" else "asl_letters",
                                        ["none"] if lab == "none" else [lab])
        (root / lab).mkdir(parents=True)
        with open(root / lab / "keypoints.jsonl", "w") as f:
            for i in range(n):
                s = src.sample(rng)
                kp = s.keypoints[0].copy()
                kp[:, :2] = kp[:, :2] * 400 + 320
                kp[:, 2] = 0
                f.write(json.dumps({"id": f"{i:06d}", "label": lab, "keypoints": kp.tolist(),
                                    "handedness": s.handedness[0], "image_size": [640, 480],
                                    "source": f"synthetic-{i // 10}", "frame": i}) + "\n")
    return root


def test_train_gesture_cli_with_data(bundle_path, tmp_path):
    from typer.testing import CliRunner

    from handsdk import load_bundle
    from handsdk.cli import app

    runner = CliRunner()
    data = _template_dataset(tmp_path / "d")
    out = tmp_path / "my.handsdk"
    r = runner.invoke(app, ["train", "gesture", "--data", str(data), "--base", str(bundle_path), "-o", str(out),
                            "--set-name", "letters", "--set", "epochs=4", "--set", "time_budget_s=15",
                            "--set", "quantization=int8", "--set", "threads=1"])
    assert r.exit_code == 0, r.output
    assert "epoch 1/4" in r.output and "validation accuracy" in r.output and "replaced the old 'letters'" in r.output
    b = load_bundle(out)
    assert sorted(b.gesture_sets) == ["commands", "letters"]  # same name: the set is replaced
    assert b.gesture_sets["letters"].labels == ("none", "L", "W", "Y")
    assert b.gesture_sets["letters"].quantization == "int8"
    assert (tmp_path / "my.confusion.png").is_file()
    rep = json.loads((tmp_path / "my.report.json").read_text())
    assert rep["validation"]["accuracy"] > 0.6
    for args, msg in ((["--data", str(data), "--base", str(bundle_path)], "-o my.handsdk"),
                      (["--data", str(data), "--base", str(tmp_path / "no.handsdk"), "-o", str(out)],
                       "base bundle not found"),
                      (["--data", str(data), "--base", str(bundle_path), "-o", str(out), "--set", "bogus=1"],
                       "unknown option"),
                      ([], "--config")):
        r = runner.invoke(app, ["train", "gesture", *args])
        assert r.exit_code != 0 and msg in r.output, (args, r.output)


def test_split_is_temporal_per_source_and_random_for_photos():
    from handsdk.train.custom import temporal_split

    labels = ["a"] * 10 + ["b"] * 10 + ["c"] * 10
    sources = ["v1"] * 10 + ["v2"] * 5 + ["v3"] * 5 + [f"photo{i}.jpg" for i in range(10)]
    order = list(range(10)) + list(range(5)) + list(range(5)) + [0] * 10
    tr, va = temporal_split(labels, sources, order, 0.2, np.random.default_rng(0))
    assert sorted(set(tr) | set(va)) == list(range(30)) and not set(tr) & set(va)
    assert sorted(i for i in va if i < 20) == [8, 9, 14, 19]  # the last frames of each video
    assert len([i for i in va if i >= 20]) == 2  # 20% of the photos, at random
