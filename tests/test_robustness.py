"""Issue 15: every bad input gets the project's own clear error, and nothing
fails silently (bundle loading, runtime options and frames, live stream)."""
from __future__ import annotations

import hashlib
import io
import json
import random
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from typer.testing import CliRunner

from handsdk.bundle import MANIFEST, BundleError, GestureSet, build_bundle, default_bundle_path, load_bundle
from handsdk.cli import app
from tests.conftest import red_stroke_frame

runner = CliRunner()


def _rezip(bundle_bytes, manifest_text=None, edit=None, replace=None):
    src = zipfile.ZipFile(io.BytesIO(bundle_bytes))
    manifest = json.loads(src.read(MANIFEST))
    if edit:
        edit(manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(MANIFEST, manifest_text if manifest_text is not None else json.dumps(manifest))
        for n in src.namelist():
            if n != MANIFEST:
                z.writestr(n, (replace or {}).get(n, src.read(n)))
    return out.getvalue()


# ------------------------------------------------------------------ bundle loading

def test_deleting_one_byte_anywhere_is_a_bundle_error_naming_the_file(bundle_bytes, tmp_path):
    rng = random.Random(3)
    p = tmp_path / "cut.handsdk"
    # the central directory's offsets (the old 'negative seek value') and every other region
    positions = [len(bundle_bytes) - k for k in range(1, 30)] + [rng.randrange(len(bundle_bytes)) for _ in range(60)]
    for i in positions:
        p.write_bytes(bundle_bytes[:i] + bundle_bytes[i + 1:])
        with pytest.raises(BundleError, match="cut.handsdk"):
            load_bundle(p)


def test_bundle_inspect_of_a_damaged_bundle_prints_no_traceback(bundle_bytes, tmp_path):
    p = tmp_path / "damaged.handsdk"
    p.write_bytes(bundle_bytes[:-5] + bundle_bytes[-4:])  # one byte of the end record deleted
    r = runner.invoke(app, ["bundle", "inspect", str(p)])
    assert r.exit_code == 2 and "damaged.handsdk" in r.output and "corrupt" in r.output
    assert "Traceback" not in r.output and r.exception is None or isinstance(r.exception, SystemExit)


@pytest.mark.parametrize("edit, path", [
    (lambda m: m.update(keypoints=None), None),  # null keypoints: the default order
    (lambda m: m["models"]["landmarker"].update(decoding="x"), r"models\.landmarker\.decoding"),
    (lambda m: m.update(format_version=True), "format_version"),
    (lambda m: m["models"]["detector"]["decoding"].update(threshold="0.5"), r"models\.detector\.decoding\.threshold"),
    (lambda m: m["models"]["detector"]["decoding"].update(min_mass=[1]), r"decoding\.min_mass"),
    (lambda m: m["models"]["landmarker"]["decoding"].update(crop_scale=-1), r"decoding\.crop_scale"),
    (lambda m: m["models"]["gesture:commands"].update(labels="abc"), r"models\.gesture:commands\.labels"),
    (lambda m: m["models"]["gesture:commands"]["labels"].__setitem__(1, 7), r"labels\[1\]"),
    (lambda m: m["models"]["detector"]["inputs"]["image"].update(shape=[1, 48.5, 64, 3]), r"shape\[1\]"),
    (lambda m: m["models"]["detector"]["inputs"]["image"]["normalization"].update(std=[0, 1, 1]), r"std\[0\]"),
    (lambda m: m["models"].update(detector=[]), r"models\.detector"),
    (lambda m: m.update(thresholds={"min_detection_score": 1.5}), r"thresholds\.min_detection_score.*\[0\.0, 1\.0\]"),
    (lambda m: m.update(thresholds={"min_gesture_score": "high"}), r"thresholds\.min_gesture_score"),
    (lambda m: m.update(thresholds={"min_presence_score": True}), r"thresholds\.min_presence_score"),
    (lambda m: m.update(thresholds=[0.5]), r"thresholds"),
    (lambda m: m.update(provenance="me"), r"provenance"),
    (lambda m: m["models"]["detector"].pop("sha256"), r"models\.detector: missing required key 'sha256'"),
    (lambda m: m["models"]["detector"].update(size=-3), r"models\.detector\.size"),
    (lambda m: m["models"]["landmarker"]["decoding"].update(type="boxes"), r"decoding\.type"),
    (lambda m: m.update(provenance={"a": json.loads("[" * 40 + "]" * 40)}), r"provenance\.a.*deeper than"),
])
def test_manifest_schema_names_the_key_path(bundle_bytes, edit, path):
    data = _rezip(bundle_bytes, edit=edit)
    if path is None:
        load_bundle(data)  # a null optional section is fine
        return
    with pytest.raises(BundleError, match=path):
        load_bundle(data)


def test_the_manifests_split_aspect_is_the_runtimes(bundle_bytes):
    """decoding.split_aspect: 0 (off) or a ratio in [1, 100], as the recognizer
    takes it (check_split_aspect), refused at load otherwise (0.5 was let through)."""
    def with_split(v):
        return _rezip(bundle_bytes, edit=lambda m: m["models"]["detector"]["decoding"].update(split_aspect=v))

    for ok in (0, 1.5, 100):
        assert load_bundle(with_split(ok)).models["detector"].decoding["split_aspect"] == ok
    for bad in (0.5, 1e-3, 101, True, "1.5"):
        with pytest.raises(BundleError, match=r"manifest key models\.detector\.decoding\.split_aspect: split_aspect "
                                              r"must be 0 \(off\) or a number in \[1, 100\].*, got "):
            load_bundle(with_split(bad))


def test_deeply_nested_manifest_text_is_a_bundle_error(bundle_bytes):
    text = '{"format": "handsdk-bundle", "format_version": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(BundleError, match="nests 100001 levels deep"):
        load_bundle(_rezip(bundle_bytes, manifest_text=text))


def test_thresholds_are_rejected_at_load_not_later(bundle_bytes):
    from handsdk import GestureRecognizer

    bad = _rezip(bundle_bytes, edit=lambda m: m["thresholds"].update(min_presence_score=-0.1))
    with pytest.raises(BundleError, match="thresholds.min_presence_score"):
        load_bundle(bad, check=False)
    with pytest.raises(BundleError, match="thresholds.min_presence_score"):
        GestureRecognizer(bundle=bad)


def test_nan_in_a_manifest_is_read_as_null_and_never_written(bundle_bytes, tiny_tflite):
    # free-form provenance with NaN (as the shipped bundle has) loads, and inspect --json is strict JSON
    data = _rezip(bundle_bytes, edit=lambda m: m["provenance"].update(auc=float("nan"), inf=[float("inf")]))
    b = load_bundle(data)
    assert b.provenance["auc"] is None and b.provenance["inf"] == [None]
    json.dumps(b.summary(), allow_nan=False)
    # a typed value may not be NaN
    with pytest.raises(BundleError, match="thresholds.min_gesture_score"):
        load_bundle(_rezip(bundle_bytes, edit=lambda m: m["thresholds"].update(min_gesture_score=float("nan"))))
    # the writer never writes NaN
    out = build_bundle(detector=tiny_tflite["detector"], landmarker=tiny_tflite["landmarker"],
                       gestures={"c": GestureSet(tiny_tflite["commands"], ("a", "b", "c"),
                                                 metrics={"val_auc": float("nan")})},
                       provenance={"metrics": {"auc": float("nan"), "n": np.float32(2.5)}})
    text = zipfile.ZipFile(io.BytesIO(out)).read(MANIFEST).decode()
    assert "NaN" not in text
    m = json.loads(text)
    assert m["provenance"]["metrics"] == {"auc": None, "n": 2.5} and m["models"]["gesture:c"]["metrics"]["val_auc"] is None


def test_bundle_inspect_json_is_strict_json(bundle_bytes, tmp_path):
    p = tmp_path / "nan.handsdk"
    p.write_bytes(_rezip(bundle_bytes, edit=lambda m: m["provenance"].update(auc=float("nan"))))
    r = runner.invoke(app, ["bundle", "inspect", str(p), "--json"])
    assert r.exit_code == 0 and "NaN" not in r.output
    assert json.loads(r.output)["provenance"]["auc"] is None


def test_provenance_never_holds_absolute_paths(tiny_tflite, tmp_path, monkeypatch):
    from handsdk.bundle import relative_path

    monkeypatch.chdir(tmp_path)
    out = build_bundle(detector=tiny_tflite["detector"], landmarker=tiny_tflite["landmarker"],
                       gestures={"c": GestureSet(tiny_tflite["commands"], ("a", "b", "c"))},
                       provenance={"pipeline": "/tmp/b/interim.handsdk",
                                   "sources": {"detector": str(tmp_path / "runs" / "detector")},
                                   "list": [str(tmp_path / "x.yaml"), "real:asl_letters/train"],
                                   "note": "/ not a path", "win": "C:\\Users\\me\\data\\set"})
    prov = load_bundle(out).provenance
    assert prov["pipeline"] == "interim.handsdk"
    assert prov["sources"]["detector"] == "runs/detector"
    assert prov["list"] == ["x.yaml", "real:asl_letters/train"]
    assert prov["note"] == "/ not a path" and prov["win"] == "set"
    assert relative_path("/a/b/c", base="/a") == "b/c" and relative_path("rel/x") == "rel/x"


def test_a_model_corrupted_with_its_hash_fixed_up_is_a_bundle_error(bundle_bytes, tiny_tflite):
    z = zipfile.ZipFile(io.BytesIO(bundle_bytes))
    junk = bytearray(z.read("landmarker.tflite"))
    junk[len(junk) // 3: len(junk) // 3 + 64] = b"\xff" * 64  # corrupt the middle of the flatbuffer
    data = _rezip(bundle_bytes, replace={"landmarker.tflite": bytes(junk)},
                  edit=lambda m: m["models"]["landmarker"].update(sha256=hashlib.sha256(junk).hexdigest()))
    with pytest.raises(BundleError, match="landmarker"):
        load_bundle(data)


@pytest.mark.skipif(default_bundle_path() is None, reason="no default bundle in this install")
def test_corrupt_int8_models_with_fixed_hashes_fail_at_load_in_a_subprocess(tmp_path):
    # the int8 interpreter accepts some corrupt files and fails only when run
    # (unsupported zero point): loading runs each model once, so it is a
    # BundleError at load, and `run` says so without a traceback
    script = r'''
import hashlib, io, json, random, sys, zipfile
from handsdk.bundle import BundleError, default_bundle_path, load_bundle
z = zipfile.ZipFile(default_bundle_path()); m = json.loads(z.read("manifest.json"))
files = {n: z.read(n) for n in z.namelist() if n != "manifest.json"}
out = {"ok": 0, "BundleError": 0, "run": 0}
for seed in range(12):
    rng = random.Random(seed); b = bytearray(files["detector.tflite"])
    for _ in range(20):
        i = rng.randrange(len(b)); b[i] = rng.randrange(256)
    mm = json.loads(json.dumps(m)); mm["models"]["detector"]["sha256"] = hashlib.sha256(b).hexdigest()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as w:
        w.writestr("manifest.json", json.dumps(mm))
        for n, x in files.items(): w.writestr(n, bytes(b) if n == "detector.tflite" else x)
    try:
        load_bundle(buf.getvalue()); out["ok"] += 1
    except BundleError as e:
        out["BundleError"] += 1; out["run"] += "fails to run" in str(e)
        open(sys.argv[1], "wb").write(buf.getvalue())
print(json.dumps(out))
'''
    bad = tmp_path / "corrupt.handsdk"
    r = subprocess.run([sys.executable, "-c", script, str(bad)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["BundleError"] >= 1 and out["run"] >= 1, out
    res = runner.invoke(app, ["run", "--source", str(tmp_path), "--bundle", str(bad), "--no-window"])
    assert res.exit_code == 2 and "corrupt" in res.output and "Traceback" not in res.output


def test_load_bundle_rejects_a_non_path_clearly():
    with pytest.raises(TypeError, match="a bundle is a path"):
        load_bundle(123)


# ------------------------------------------------------------------ runtime options and frames
from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode  # noqa: E402


def test_options_accept_numpy_scalars_and_reject_bools():
    o = GestureRecognizerOptions(max_hands=np.int64(2), num_threads=np.int32(1),
                                 min_detection_score=np.float32(0.25), min_gesture_score=np.float64(0.5),
                                 redetect_interval=np.uint8(3), smoothing_beta=np.float32(2.0))
    assert type(o.max_hands) is int and type(o.min_detection_score) is float and o.min_detection_score == 0.25
    for kw, name in [({"max_hands": True}, "max_hands"), ({"num_threads": True}, "num_threads"),
                     ({"min_presence_score": True}, "min_presence_score"),
                     ({"min_gesture_score": np.bool_(True)}, "min_gesture_score"),
                     ({"min_detection_score": float("nan")}, "min_detection_score"),
                     ({"redetect_interval": False}, "redetect_interval"),
                     ({"smoothing_beta": True}, "smoothing_beta"),
                     ({"smoothing": "no"}, "smoothing")]:
        with pytest.raises(ValueError, match=name):
            GestureRecognizerOptions(**kw)


def test_gesture_sets_as_one_name_is_not_split_into_characters(bundle_path):
    assert GestureRecognizerOptions(gesture_sets="commands").gesture_sets == ("commands",)
    with GestureRecognizer.create(bundle_path, gesture_sets="commands") as rec:
        assert list(rec.classifiers) == ["commands"]
    for bad in ((), [1], 5):
        with pytest.raises(ValueError, match="gesture_sets"):
            GestureRecognizerOptions(gesture_sets=bad)


@pytest.mark.parametrize("bad", [123, 1.5, ["a.handsdk"], ""])
def test_a_bundle_option_that_is_no_bundle_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="bundle"):
        GestureRecognizerOptions(bundle=bad)


@pytest.mark.parametrize("ts", [float("inf"), float("nan"), "12", True])
def test_bad_timestamps_are_value_errors(bundle_path, ts):
    with GestureRecognizer.create(bundle_path, running_mode="video") as rec:
        with pytest.raises(ValueError, match="timestamp_ms"):
            rec.recognize(red_stroke_frame(), ts)
        assert rec.recognize(red_stroke_frame(), np.int64(5)).timestamp_ms == 5  # numpy ints are fine


# ------------------------------------------------------------------ LIVE_STREAM
import threading  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402


def _wait(cond, seconds=10.0):
    t = time.time() + seconds
    while not cond() and time.time() < t:
        time.sleep(0.01)
    return cond()


def _break_landmarker(rec, n_failures=1):
    """The landmarker's interpreter fails (as a corrupt model does) for the next n frames."""
    real = rec.landmarker.model
    left = [n_failures]

    def failing(**kw):
        if left[0] > 0:
            left[0] -= 1
            raise RuntimeError("interpreter failed: tensor 7 has an unsupported zero point")
        return real(**kw)
    rec.landmarker.model = failing


def test_live_stream_worker_errors_reach_the_next_recognize_and_the_stream_goes_on(bundle_path):
    got = []
    rec = GestureRecognizer.create(bundle_path, running_mode="live_stream",
                                   result_callback=lambda r, f, ts: got.append(ts))
    try:
        _break_landmarker(rec)
        rec.recognize(red_stroke_frame(), timestamp_ms=0)
        assert _wait(lambda: rec.errors == 1)
        with pytest.raises(RuntimeError, match="unsupported zero point"):
            rec.recognize(red_stroke_frame(), timestamp_ms=1)
        assert not got
        rec.recognize(red_stroke_frame(), timestamp_ms=2)  # the error was reported once; usable again
        assert _wait(lambda: got == [2])
    finally:
        rec.close()
    with pytest.raises(RuntimeError, match="closed"):
        rec.recognize(red_stroke_frame(), timestamp_ms=3)


def test_live_stream_error_callback_gets_the_error_and_timestamp(bundle_path):
    errors, got = [], []
    with GestureRecognizer.create(bundle_path, running_mode="live_stream",
                                  result_callback=lambda r, f, ts: got.append(ts),
                                  error_callback=lambda e, ts: errors.append((type(e).__name__, ts))) as rec:
        _break_landmarker(rec)
        rec.recognize(red_stroke_frame(), timestamp_ms=10)
        assert _wait(lambda: errors == [("RuntimeError", 10)])
        rec.recognize(red_stroke_frame(), timestamp_ms=20)  # no raise: the callback took the error
        assert _wait(lambda: got == [20])
    with pytest.raises(ValueError, match="error_callback is only used in LIVE_STREAM"):
        GestureRecognizerOptions(error_callback=lambda e, ts: None)


def _live_threads():
    return [t for t in threading.enumerate() if t.name == "handsdk-live" and t.is_alive()]


def test_unclosed_live_stream_recognizers_end_their_threads_when_collected(bundle_path):
    import gc

    before = len(_live_threads())
    for _ in range(5):
        rec = GestureRecognizer.create(bundle_path, running_mode="live_stream", result_callback=lambda *a: None)
        rec.recognize(red_stroke_frame(), timestamp_ms=0)
    del rec
    gc.collect()
    assert _wait(lambda: len(_live_threads()) == before, 5)
    assert all(t.daemon for t in threading.enumerate() if t.name == "handsdk-live")


def test_close_during_a_slow_callback_waits_for_the_worker_or_says_so(bundle_path):
    started = threading.Event()

    def slow(result, frame, ts):
        started.set()
        time.sleep(0.6)

    rec = GestureRecognizer.create(bundle_path, running_mode="live_stream", result_callback=slow)
    rec.recognize(red_stroke_frame(), timestamp_ms=0)
    assert started.wait(10)
    t = time.time()
    rec.close()
    assert time.time() - t > 0.3 and not rec._worker.is_alive()
    rec = GestureRecognizer.create(bundle_path, running_mode="live_stream", result_callback=slow)
    started.clear()
    rec.recognize(red_stroke_frame(), timestamp_ms=0)
    assert started.wait(10)
    with pytest.warns(RuntimeWarning, match="still busy"):
        rec.close(timeout=0.05)
    assert _wait(lambda: not rec._worker.is_alive(), 5)


def test_float_frames_in_0_255_are_read_as_such_never_saturated(bundle_path):
    from handsdk.image import to_rgb

    u8 = red_stroke_frame()
    assert np.array_equal(to_rgb(u8.astype(np.float32)), to_rgb(u8))
    assert np.array_equal(to_rgb(u8.astype(np.float32) / 255.0), to_rgb(u8))
    with pytest.raises(ValueError, match=r"\[0, 1\] or \[0, 255\]"):
        to_rgb(u8.astype(np.float32) * 4)
    with pytest.raises(ValueError, match=r"\[0, 1\] or \[0, 255\]"):
        to_rgb(u8.astype(np.float32) - 100)
    with GestureRecognizer.create(bundle_path) as rec:
        a, b = rec.recognize(u8), rec.recognize(u8.astype(np.float32))
        assert len(a.hands) == len(b.hands) == 1 and np.allclose(a.hands[0].keypoints, b.hands[0].keypoints)


# ------------------------------------------------------------------ VIDEO mode: one still hand is one hand
from tests.conftest import needs_data, shared_data_root  # noqa: E402

#: one-hand photos (asl_letters/valid); under the old tracker a detector that
#: splits a hand in two, or keypoints that collapse onto part of it, gave a
#: second, phantom hand in most frames of the first three and up to 7 track ids
_STILL_HANDS = ("C9_", "A20_", "D0_", "B1_", "A10_", "B12_", "C15_", "D12_")


@needs_data
@pytest.mark.skipif(default_bundle_path() is None, reason="no default bundle in this install")
@pytest.mark.slow
def test_shifted_one_hand_frames_give_one_hand_and_one_track_id():
    import cv2

    folder = shared_data_root() / "asl_letters" / "valid" / "images"
    files = [next(iter(sorted(folder.glob(f"{p}*.jpg"))), None) for p in _STILL_HANDS]
    files = [f for f in files if f is not None]
    if len(files) < 4:
        pytest.skip("the asl_letters/valid photos of this test are absent")
    rng = np.random.default_rng(0)
    frames_with_two, total, ids_per_image = 0, 0, {}
    with GestureRecognizer.create(None, running_mode="video", max_hands=2) as rec:
        for f in files:
            img = cv2.imread(str(f))
            h, w = img.shape[:2]
            rec.reset()
            ids = set()
            for i in range(40):  # a still hand, the camera shaking by up to 10 px
                dx, dy = rng.integers(-10, 11, 2)
                fr = cv2.warpAffine(img, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h), borderMode=cv2.BORDER_REPLICATE)
                r = rec.recognize(fr, i * 33)
                ids |= {hd.track_id for hd in r.hands}
                frames_with_two += len(r.hands) >= 2
                total += 1
            ids_per_image[f.name[:4]] = len(ids)
    assert frames_with_two / total < 0.03, (frames_with_two, total, ids_per_image)  # old tracker: 0.09
    assert sum(n == 1 for n in ids_per_image.values()) >= len(files) - 1, ids_per_image
    assert max(ids_per_image.values()) <= 2, ids_per_image  # old tracker: 4 ids on C9


# ------------------------------------------------------------------ custom gestures: messages and provenance

def test_too_few_none_samples_says_how_many_and_how_to_get_them(bundle_path, tmp_path):
    pytest.importorskip("tensorflow")
    from handsdk.train.custom import CustomTrainingError, train_custom_gestures

    d = tmp_path / "mine"
    for label, n in (("ok", 6), ("none", 1)):
        (d / label).mkdir(parents=True)
        rows = [json.dumps({"keypoints": (np.random.default_rng(i).uniform(0, 100, (21, 3))).tolist(),
                            "handedness": "Right"}) for i in range(n)]
        (d / label / "keypoints.jsonl").write_text("\n".join(rows) + "\n")
    with pytest.raises(CustomTrainingError) as e:
        train_custom_gestures(d, bundle_path, tmp_path / "o.handsdk")
    msg = str(e.value)
    assert "none=1" in msg and "needs 5" in msg and "record 4 or more" in msg
    assert "handsdk capture --label none" in msg and f"delete {d / 'none'}" in msg


def test_a_custom_fp32_head_on_an_int8_base_does_not_claim_int8(bundle_bytes, tmp_path):
    pytest.importorskip("tensorflow")
    from handsdk.convert.tflite import keras_to_tflite
    from handsdk.train.custom import extend_bundle
    from tests.conftest import tiny_gesture

    def as_int8(m):
        for e in m["models"].values():
            e["quantization"] = "int8"
        m["provenance"]["format"] = "int8"
    base = load_bundle(_rezip(bundle_bytes, edit=as_int8))
    out = extend_bundle(base, "mine", keras_to_tflite(tiny_gesture(2, seed=3)), ("none", "ok"), quantization="fp32")
    b = load_bundle(out)
    assert b.models["gesture:mine"].quantization == "fp32"
    assert b.provenance["format"] == "mixed"
    assert b.provenance["quantization_by_model"]["gesture:mine"] == "fp32"
    assert b.provenance["quantization_by_model"]["detector"] == "int8"


def test_a_tensorrt_bundle_loads_for_inspection_off_the_jetson():
    # each model is run once at load, except TensorRT engines, which run only on their Jetson
    from handsdk.backends.tensorrt import pack_engine

    det = pack_engine(b"E1", {"image": (1, 48, 64, 3)}, {"skeleton": (1, 48, 64, 1)})
    lm = pack_engine(b"E2", {"image": (1, 32, 32, 3), "skeleton": (1, 32, 32, 1)},
                     {"heatmaps": (1, 16, 16, 21), "presence": (1, 1), "handedness": (1, 1)})
    g = pack_engine(b"E3", {"keypoints": (1, 21, 2)}, {"scores": (1, 3)})
    data = build_bundle(detector=det, landmarker=lm, gestures={"c": GestureSet(g, ("a", "b", "c"))},
                        quantization="fp16-trt")
    b = load_bundle(data)
    assert b.models["detector"].file == "detector.engine" and b.models["gesture:c"].labels == ("a", "b", "c")
