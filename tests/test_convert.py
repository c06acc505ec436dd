"""Conversion: every format from one table, every converted model reloaded,
run and compared with its Keras model; the convert/profile CLI end to end."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from handsdk.cli import app
from handsdk.convert.formats import FORMATS, TFLITE_FORMATS
from tests.conftest import red_stroke_frame, tiny_detector, tiny_gesture, tiny_landmarker

runner = CliRunner()


def _runs(tmp_path):
    """Tiny 'training runs': best.keras + metadata.json per model."""
    runs = {}
    for name, model, meta in [
        ("detector", tiny_detector(), {"role": "detector", "decoding": {"threshold": 0.5, "min_mass": 3.0,
                                                                          "min_size_frac": 0.05, "pad": 0.1}}),
        ("pose", tiny_landmarker(), {"role": "landmarker", "decoding": {"type": "heatmaps", "crop_scale": 1.4}}),
        ("gesture", tiny_gesture(3), {"role": "gesture:commands", "labels": ["none", "open_palm", "fist"],
                                      "label_set": "commands", "training_data": ["synthetic"],
                                      "decoding": {"kind": "commands", "none_label": "none"}}),
    ]:
        d = tmp_path / name
        d.mkdir()
        model.save(d / "best.keras")
        (d / "metadata.json").write_text(json.dumps(meta))
        runs[name] = d
    return runs


def test_the_format_table_drives_the_cli():
    r = runner.invoke(app, ["convert", "--help"])
    assert r.exit_code == 0
    assert set(TFLITE_FORMATS) == {"fp32", "fp16", "dynamic", "int8", "qat-int8"}
    assert {"onnx", "tensorrt"} <= set(FORMATS)
    r = runner.invoke(app, ["convert", "--detector", "d", "--pose", "p", "--gesture", "g", "--format", "int4",
                            "-o", "x.handsdk"])
    assert r.exit_code == 2 and "unknown format 'int4'" in r.output
    r = runner.invoke(app, ["build-default", "--format", "int4"])
    assert r.exit_code == 2 and "unknown format 'int4'; choose one of " + ", ".join(FORMATS) in r.output


def test_readme_format_table_is_the_formats_table():
    """README's table lists the rows of FORMATS with their descriptions; which
    format suits a device is said by the device profiles only."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("| format | what |\n", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    rows = [re.fullmatch(r"\| `([\w-]+)` \| (.+) \|", line).groups() for line in table]
    assert rows == [(k, f.description) for k, f in FORMATS.items()]


@pytest.mark.parametrize("outputs", ["list", "dict"])
@pytest.mark.parametrize("fmt", ["fp32", "fp16", "dynamic", "int8", pytest.param("qat-int8", marks=pytest.mark.slow),
                                 "onnx"])
def test_each_format_converts_reloads_and_keeps_parity(fmt, outputs):
    """Both kinds of trained model: outputs as a list, and as a dict by name
    (the real pose model returns a dict)."""
    from handsdk.backends import open_model
    from handsdk.convert.api import Trained, convert_model, measure_parity
    from handsdk.train.tf import keras

    rng = np.random.default_rng(0)
    model = tiny_landmarker()
    if outputs == "dict":
        model = keras.Model(model.inputs, {n: o for n, o in zip(model.output_names, model.outputs)})
    t = Trained("landmarker", model, {}, "mem")
    inputs = [{"image": rng.uniform(0, 1, (1, 32, 32, 3)).astype(np.float32),
               "skeleton": rng.uniform(0, 1, (1, 32, 32, 1)).astype(np.float32)} for _ in range(12)]
    for x in inputs:  # a bright green spot on a dimmer background: the heatmap peak
        i, j = rng.integers(4, 28, 2)
        x["image"][0, :, :, 1] *= 0.3
        x["image"][0, i - 1:i + 2, j - 1:j + 2, 1] = 1.0
    data, info = convert_model(t, fmt, inputs, qat_steps=5, progress=lambda m: None)
    m = open_model(data)  # reloaded in the runtime's interpreter
    assert set(m.outputs) == {"heatmaps", "presence", "handedness"}
    assert m(**inputs[0])["heatmaps"].shape == (1, 16, 16, 21)
    parity = measure_parity(t, data, inputs)
    assert parity["samples"] == 12
    assert parity["keypoint_error_px"] < 1.5, parity
    if fmt in ("int8", "qat-int8"):
        assert m.inputs["image"].dtype == np.int8
    if fmt == "qat-int8":
        assert "qat_left_float" in info


@pytest.mark.slow
def test_qat_handles_models_with_named_dict_outputs():
    """The trained pose model returns a dict of outputs (heatmaps, presence,
    handedness), not a list: QAT's distillation must pair them by name."""
    from handsdk.backends import open_model
    from handsdk.convert.api import Trained, convert_model, measure_parity
    from handsdk.train.tf import keras

    base = tiny_landmarker()
    named = keras.Model(base.inputs, {n: o for n, o in zip(base.output_names, base.outputs)})
    rng = np.random.default_rng(1)
    inputs = [{"image": rng.uniform(0, 1, (1, 32, 32, 3)).astype(np.float32),
               "skeleton": rng.uniform(0, 1, (1, 32, 32, 1)).astype(np.float32)} for _ in range(8)]
    t = Trained("landmarker", named, {}, "mem")
    data, info = convert_model(t, "qat-int8", inputs, qat_steps=3, progress=lambda m: None)
    assert set(open_model(data).outputs) == {"heatmaps", "presence", "handedness"}
    assert measure_parity(t, data, inputs)["samples"] == 8


def test_qat_lists_the_layers_it_leaves_float():
    from handsdk.convert.qat import annotate
    from handsdk.train.tf import keras

    i = keras.Input((16, 16, 3), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same")(i)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.LayerNormalization(name="ln")(x)
    out = keras.layers.Conv2D(1, 1, name="skeleton")(x)
    _, left = annotate(keras.Model(i, out))
    assert any(s.startswith("ln ") for s in left) and not any("conv2d" in s for s in left)


@pytest.mark.slow
def test_convert_cli_writes_a_bundle_that_runs(tmp_path):
    runs = _runs(tmp_path)
    out = tmp_path / "model.handsdk"
    r = runner.invoke(app, ["convert", "--detector", str(runs["detector"]), "--pose", str(runs["pose"]),
                            "--gesture", str(runs["gesture"]), "--format", "int8", "--device", "rpi4", "-o", str(out),
                            "--data", "synthetic", "--calibration", "8", "--parity", "8",
                            "--report", str(tmp_path / "rep.json")])
    assert r.exit_code == 0, r.output
    from handsdk import GestureRecognizer, load_bundle

    b = load_bundle(out)
    assert b.detector.quantization == "int8" and b.gesture_sets["commands"].labels == ("none", "open_palm", "fist")
    prov = b.provenance
    assert prov["format"] == "int8" and prov["device"] == "rpi4" and prov["training_data"] == ["synthetic"]
    assert set(prov["parity"]) == {"detector", "landmarker", "gesture:commands"}
    assert "gesture_agreement" in prov["parity"]["gesture:commands"]
    assert json.loads((tmp_path / "rep.json").read_text())["format"] == "int8"
    with GestureRecognizer.create(out) as rec:
        res = rec.recognize(red_stroke_frame())
    assert len(res.hands) == 1  # the int8 detector still sees the red stroke


def test_onnx_bundle_runs_in_onnxruntime(tmp_path):
    pytest.importorskip("onnxruntime")
    runs = _runs(tmp_path)
    out = tmp_path / "onnx.handsdk"
    r = runner.invoke(app, ["convert", "--detector", str(runs["detector"]), "--pose", str(runs["pose"]),
                            "--gesture", str(runs["gesture"]), "--format", "onnx", "-o", str(out),
                            "--data", "synthetic", "--calibration", "4", "--parity", "4"])
    assert r.exit_code == 0, r.output
    from handsdk import GestureRecognizer, load_bundle

    b = load_bundle(out)
    assert b.detector.file == "detector.onnx"
    with GestureRecognizer.create(out) as rec:
        assert rec.detector.model.backend == "onnxruntime"
        assert len(rec.recognize(red_stroke_frame()).hands) == 1


def test_convert_errors_are_clear(tmp_path):
    r = runner.invoke(app, ["convert", "--detector", str(tmp_path / "nope"), "--pose", "p", "--gesture", "g",
                            "-o", str(tmp_path / "x.handsdk")])
    assert r.exit_code == 2 and "not found" in r.output
    r = runner.invoke(app, ["convert", "--detector", "d", "--pose", "p", "--gesture", "g", "--format", "tensorrt",
                            "-o", "x.handsdk"])
    assert r.exit_code == 2 and "Jetson" in r.output


def test_tensorrt_engine_container_round_trip():
    from handsdk.backends import BackendError, open_model
    from handsdk.backends.tensorrt import pack_engine, unpack_engine
    from handsdk.convert.tensorrt import EngineOptions, trtexec_command

    blob = pack_engine(b"ENGINE", {"image": (1, 64, 64, 3)}, {"skeleton": (1, 64, 64, 1)})
    header, engine = unpack_engine(blob)
    assert engine == b"ENGINE" and header["inputs"]["image"] == [1, 64, 64, 3]
    m = open_model(blob)  # lazily loaded: inspecting needs no GPU
    assert m.backend == "tensorrt" and m.inputs["image"].shape == (1, 64, 64, 3)
    with pytest.raises(BackendError, match="Jetson"):
        m(image=np.zeros((1, 64, 64, 3), np.float32))
    assert "--fp16" in trtexec_command("a.onnx", "a.engine", EngineOptions("fp16"))
    with pytest.raises(ValueError):
        EngineOptions("int4")


def test_profile_rows_never_abort(bundle_path, tmp_path):
    out = tmp_path / "p.json"
    r = runner.invoke(app, ["profile", "--bundle", str(bundle_path), "--bundle", str(tmp_path / "missing.handsdk"),
                            "--frames", "5", "--warmup", "1", "--json", str(out)])
    assert r.exit_code == 1, r.output  # a failed row fails the command (after every row ran)
    rows = json.loads(out.read_text())
    assert rows[0]["detection_frames"]["total"]["p50"] > 0 and rows[0]["size_bytes"]["total"] > 0
    assert rows[0]["peak_rss_mib"] > 0
    assert "error" in rows[1] and "FAILED" in r.output
    # the table's columns line up, the failed row included
    table = [ln for ln in r.output.splitlines() if ln.startswith(("bundle", "tiny", "missing"))]
    assert len(table) == 3
    col = table[0].index("det p50") + len("det p50")
    assert all(ln[col - 1] != " " for ln in table), table


@pytest.mark.slow
def test_a_model_that_loses_accuracy_falls_back_to_another_format(tmp_path):
    from handsdk import GestureRecognizer, load_bundle
    from handsdk.convert.api import convert_bundle

    runs = _runs(tmp_path)
    out = tmp_path / "mixed.handsdk"
    # an impossible keypoint tolerance for int8 (fp32 reproduces the Keras model exactly)
    rep = convert_bundle(runs["detector"], runs["pose"], [runs["gesture"]], fmt="int8", output=out,
                         data="synthetic", calibration_samples=8, parity_samples=8,
                         tolerance={"keypoint_error_px": 1e-6}, fallback="fp32", progress=lambda m: None)
    lm = rep.models["landmarker"]
    assert lm["format"] == "fp32" and lm["parity"]["within_tolerance"]
    assert lm["parity"]["fell_back_from"]["format"] == "int8"
    assert rep.models["detector"]["format"] == "int8"
    assert any("landmarker" in w and "fp32" in w for w in rep.warnings)
    b = load_bundle(out)
    assert b.landmarker.quantization == "fp32" and b.detector.quantization == "int8"
    with GestureRecognizer.create(out) as rec:
        assert len(rec.recognize(red_stroke_frame()).hands) == 1


def _aborting_python(tmp_path):
    """A 'python' whose child process dies of SIGABRT, as LiteRT's XNNPACK
    does on some int8 models ("double free or corruption")."""
    import sys

    exe = tmp_path / "abort_python"
    exe.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import os; os.abort()'\n")
    exe.chmod(0o755)
    return str(exe)


def test_a_converted_model_runs_in_a_child_process_first(tmp_path):
    from pathlib import Path

    from handsdk.convert.api import runs_in_child

    tiny = Path(__file__).parent / "fixtures" / "tiny" / "landmarker.tflite"
    from handsdk.backends import open_model

    spec = open_model(tiny.read_bytes()).inputs  # the fixture's input names and shapes (float in)
    x = {k: np.zeros(t.shape, np.float32) for k, t in spec.items()}
    assert runs_in_child(tiny.read_bytes(), x) == (True, "")
    ok, why = runs_in_child(b"TFL3 not a model" * 4, x)
    assert not ok and "failed on it (exit 1" in why
    ok, why = runs_in_child(tiny.read_bytes(), x, python=_aborting_python(tmp_path))
    assert not ok and "crashed on it (SIGABRT" in why


def test_a_model_that_crashes_the_runtime_falls_back_or_is_refused(tmp_path, monkeypatch):
    import handsdk.convert.api as api

    real = api.runs_in_child
    abort = _aborting_python(tmp_path)
    landmarker_calls = []

    def child(model_bytes, inputs, **kw):
        # the landmarker (the model with a 'skeleton' input) crashes in its first format;
        # every other model, and the landmarker's fallback, runs for real
        if "skeleton" in inputs:
            landmarker_calls.append(1)
            if len(landmarker_calls) == 1:
                return real(model_bytes, inputs, python=abort)
        return real(model_bytes, inputs, **kw)

    monkeypatch.setattr(api, "runs_in_child", child)
    runs = _runs(tmp_path)
    out = tmp_path / "fb.handsdk"
    rep = api.convert_bundle(runs["detector"], runs["pose"], [runs["gesture"]], fmt="int8", output=out,
                             data="synthetic", calibration_samples=8, parity_samples=8, fallback="fp16",
                             progress=lambda m: None)
    lm = rep.models["landmarker"]
    assert lm["format"] == "fp16" and "SIGABRT" in lm["parity"]["fell_back_from"]["crashed"]
    assert any("crashed the runtime" in w for w in rep.warnings)
    # without a fallback nothing is written, and the error says what to do
    landmarker_calls.clear()
    out2 = tmp_path / "none.handsdk"
    with pytest.raises(api.ConversionError, match="crashed on it.*nothing was written.*fp16"):
        api.convert_bundle(runs["detector"], runs["pose"], [runs["gesture"]], fmt="int8", output=out2,
                           data="synthetic", calibration_samples=8, parity_samples=8, progress=lambda m: None)
    assert not out2.exists()


def test_convert_takes_a_motion_set_with_its_history_input_and_decoding(tmp_path):
    """A motion model given as a --gesture: calibrated and checked on keypoint-history
    windows (not on keypoint features, which it cannot read), and in the bundle as a
    motion set with its whole decoding (input, frames, rate, points, gate)."""
    from handsdk import load_bundle
    from handsdk.convert.api import convert_bundle, load_trained, motion_windows
    from handsdk.motion import MotionClassifier
    from handsdk.train.models.motion.config import MotionConfig
    from handsdk.train.models.motion.model import build_motion, motion_metadata

    cfg = MotionConfig()
    cfg.model.filters, cfg.model.hidden = [8, 8, 8], 8
    model = build_motion(cfg.model)
    runs = _runs(tmp_path)
    d = tmp_path / "motion"
    d.mkdir()
    model.save(d / "best.keras")
    (d / "metadata.json").write_text(json.dumps(motion_metadata(model, cfg)))
    windows = motion_windows(load_trained(d), 6, seed=1)
    assert len(windows) == 6 and all(w["history"].shape == (1, 32, 23) for w in windows)
    assert len({float(np.abs(w["history"]).sum()) for w in windows}) == 6  # six different takes
    for fmt in ("fp32", "int8"):
        out = tmp_path / f"m_{fmt}.handsdk"
        rep = convert_bundle(runs["detector"], runs["pose"], [runs["gesture"], d], fmt=fmt, output=out,
                             data="synthetic", calibration_samples=8, parity_samples=8, progress=lambda m: None)
        assert rep.models["gesture:motion"]["parity"]["samples"] == 8
        e = load_bundle(out).gesture_sets["motion"]
        assert e.decoding["input"] == "keypoint_history" and e.decoding["min_score"] == cfg.model.min_score
        assert e.decoding["points"] == list(cfg.model.points) and e.quantization == fmt
        clf = MotionClassifier(out, "motion")  # the runtime reads it as a motion set
        got = np.stack([clf.scores_feature(w["history"][0]) for w in windows])
        ref = model.predict(np.concatenate([w["history"] for w in windows]), verbose=0)
        assert np.abs(got - ref).max() < (1e-5 if fmt == "fp32" else 0.1)
