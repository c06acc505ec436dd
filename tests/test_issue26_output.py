"""Issue 26, point 7: output a person can read. Native log lines are filtered
(and only they), the Python API keeps LiteRT's start-up line off stderr,
`bundle inspect` prints a readable summary (--json: everything), the shipped
manifest names itself and its quantization truly, `run` shows the top class of
a set that fell below its gate, and the CLI's help has a text for every option,
plain metavars, unwrapped paragraphs and one build time."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from handsdk.cli import app
from tests.conftest import red_stroke_frame

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]


def _python(code: str, env=None, timeout=120):
    e = dict(os.environ)
    e.pop("HANDSDK_NATIVE_LOGS", None)
    e.update(env or {})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=e,
                          cwd=str(REPO))


# ------------------------------------------------------------------ native log lines
#: lines as `handsdk convert` / `train` print them (captured from a real run), and onnxruntime's
NOISE = [
    "I0000 00:00:1796635700.396280    9895 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors.\n",
    "I0000 00:00:1796635700.396975    9895 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU "
    "will not be used.\n",
    "E0000 00:00:1796635699.281317    9883 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\n",
    "W0000 00:00:1796636504.137256   16954 reader.cc:147] Reading SavedModel debug info (if present)\n",
    "fully_quantize: 0, inference_type: 6, input_inference_type: INT8, output_inference_type: INT8\n",
    "\x1b[0;93m2026-11-30 10:11:12.123456789 [W:onnxruntime:Default, device_discovery.cc:164 "
    "DiscoverDevicesForPlatform] GPU device discovery failed\x1b[m\n",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",
]
KEPT = [
    "[1/3] detector: converting to int8\n",
    "    detector: calibrating [####################] 8/8 samples (0s)\n",
    "note: runs/pose/best.keras carries no thresholds\n",
    "error: the bundle could not be written\n",
    "2026 frames read\n",
]


def test_the_cli_filter_drops_native_log_lines_and_keeps_everything_else():
    lines = [x for pair in zip(NOISE, KEPT + [""] * len(NOISE)) for x in pair if x]
    code = ("import os; from handsdk.cli import quiet_native_logs\n"
            "restore = quiet_native_logs()\n"
            f"for ln in {lines!r}:\n    os.write(2, ln.encode())\n"
            "restore()\n")
    r = _python(code)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "".join(KEPT)  # in order, nothing else (before: the I0000 ... and fully_quantize lines passed)


def test_the_shared_datas_malformed_csv_row_is_no_warning_in_the_cli(tmp_path):
    """The reader's own warning (one bad row of gesture_keypoints_csv is
    skipped on every convert and train) is hidden by the CLI, other warnings
    are not; without the CLI's filters it shows."""
    row = ",".join(["0"] + ["0.1"] * 42)
    csv = tmp_path / "keypoint.csv"
    csv.write_text(f"{row}\n{row},0.5,0.5\n{row}\n")
    code = ("import warnings\n"
            "from handsdk.train.data.formats import read_landmark_csv\n"
            "{quiet}"
            f"n = len(read_landmark_csv({str(csv)!r}, on_bad_row='warn'))\n"
            "warnings.warn('a warning the user should see')\n"
            "print(n)\n")
    plain = _python(code.format(quiet=""))
    assert plain.stdout.strip() == "2" and "malformed landmark row" in plain.stderr, plain.stderr
    quiet = _python(code.format(quiet="from handsdk.cli import quiet_python_logs; quiet_python_logs()\n"))
    assert quiet.stdout.strip() == "2"
    assert "malformed" not in quiet.stderr and "a warning the user should see" in quiet.stderr, quiet.stderr


def test_the_python_api_keeps_litert_start_up_line_off_stderr(bundle_path):
    code = ("import numpy as np, sys\n"
            "from handsdk import GestureRecognizer\n"
            "from tests.conftest import red_stroke_frame\n"
            f"with GestureRecognizer.create({str(bundle_path)!r}, color_order='BGR') as rec:\n"
            "    print(len(rec.recognize(red_stroke_frame()).hands))\n"
            "print('done', file=sys.stderr)\n")
    r = _python(code)
    assert r.returncode == 0 and r.stdout.strip() == "1", r.stderr
    assert "XNNPACK" not in r.stderr and r.stderr.strip() == "done", r.stderr
    loud = _python(code, env={"HANDSDK_NATIVE_LOGS": "1"})  # the line is there to hide: kept on request
    assert "INFO: Created TensorFlow Lite XNNPACK delegate" in loud.stderr


def test_what_else_is_printed_while_a_model_loads_is_kept(capfd, monkeypatch):
    from handsdk.backends import quiet_model_loading

    monkeypatch.delenv("HANDSDK_NATIVE_LOGS", raising=False)
    with quiet_model_loading():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"ERROR: tensor 3 has no quantization\n")
    assert capfd.readouterr().err == "ERROR: tensor 3 has no quantization\n"


# ------------------------------------------------------------------ bundle inspect
def test_bundle_inspect_of_the_shipped_bundle_is_readable_and_json_has_all_of_it():
    from handsdk.bundle import default_bundle_path, load_bundle

    p = default_bundle_path()
    if p is None:
        pytest.skip("no default bundle in this install")
    b = load_bundle(p)
    r = runner.invoke(app, ["bundle", "inspect"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert max(len(x) for x in lines) <= 100, max(lines, key=len)  # (before: lines of 10,674 and 8,745)
    # (int8, with the landmarker in fp16: int8 moves its keypoints past the tolerance)
    assert "name handsdk-default" in r.output and "quantization mixed" in r.output
    assert "device: -" in r.output and "rpi4" not in r.output
    assert [ln.split()[-1] for ln in lines if ln.strip().startswith(("detector ", "landmarker "))] == ["int8", "fp16"]
    # the evaluation is a table: one row per set with what the manifest says
    ev = b.provenance["evaluation"]
    row = next(x for x in lines if x.split()[:1] == ["webcam_signs/valid"])
    assert row.split()[1:5] == [str(ev["webcam_signs/valid"]["images"]),
                                f"{ev['webcam_signs/valid']['scene']['found_rate']:.3f}",
                                f"{ev['webcam_signs/valid']['scene']['false_per_image']:.3f}",
                                f"{ev['webcam_signs/valid']['keypoints_end_to_end']['all']['pck@0.2']:.3f}"]
    assert all(any(x.split()[:1] == [name] for x in lines) for name in ev)
    full = json.loads(runner.invoke(app, ["bundle", "inspect", "--json"]).output)
    assert full["provenance"]["evaluation"] == json.loads(json.dumps(ev))
    assert full["provenance"]["configs"] == b.provenance["configs"]
    assert full["quantization"] == {"bundle": "mixed",
                                    "by_model": {r: "fp16" if r == "landmarker" else "int8" for r in b.models}}


def test_the_shipped_manifest_names_itself_and_no_device_and_kept_its_models():
    import hashlib
    import zipfile

    from handsdk.bundle import default_bundle_path, load_bundle

    p = default_bundle_path()
    if p is None:
        pytest.skip("no default bundle in this install")
    b = load_bundle(p)
    assert b.manifest["name"] == "handsdk-default" and b.provenance.get("device") is None
    assert b.quantization == b.provenance["format"] == "mixed"  # (int8 asked; the landmarker fell back)
    assert b.landmarker.quantization == "fp16" and b.detector.quantization == "int8"
    assert b.provenance["parity"]["landmarker"]["fell_back_from"]["format"] == "int8"
    z = zipfile.ZipFile(p)
    for e in b.models.values():  # (the manifest was rewritten in place: the models' bytes are the ones it hashes)
        assert hashlib.sha256(z.read(e.file)).hexdigest() == e.sha256


def test_bundle_inspect_says_when_the_recorded_format_is_not_the_models(bundle_bytes, tmp_path):
    import io
    import zipfile

    from handsdk.bundle import MANIFEST

    zin = zipfile.ZipFile(io.BytesIO(bundle_bytes))
    m = json.loads(zin.read(MANIFEST))
    m["name"] = "fp16"
    m["provenance"].update(format="fp16", configs={"detector": {"task": "detector", "model": {
        f"k{i}": list(range(50)) for i in range(40)}}}, notes="x" * 5000, runs=[f"run{i}" for i in range(300)])
    p = tmp_path / "b.handsdk"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as z:
        for info in zin.infolist():
            z.writestr(info.filename, json.dumps(m) if info.filename == MANIFEST else zin.read(info))
    r = runner.invoke(app, ["bundle", "inspect", str(p)])
    assert r.exit_code == 0, r.output
    assert "quantization fp32 (every model)" in r.output
    assert "note: its provenance says format 'fp16'; the models themselves are fp32" in r.output
    assert max(len(x) for x in r.output.splitlines()) <= 100
    assert "runs: 300: run0, run1" in r.output and "model={40 keys}" in r.output


# ------------------------------------------------------------------ run: a set below its gate
def _gated_bundle(tiny_tflite, tmp_path):
    from handsdk.bundle import GestureSet, build_bundle

    p = tmp_path / "gated.handsdk"
    build_bundle(p, detector=tiny_tflite["detector"], landmarker=tiny_tflite["landmarker"],
                 gestures={"commands": GestureSet(tiny_tflite["commands"], ("none", "open_palm", "pinch")),
                           "letters": GestureSet(tiny_tflite["letters"], ("A", "B", "C", "D"), kind="spelling",
                                                 none_label=None)},
                 detector_decoding={"threshold": 0.5, "min_mass": 3.0, "min_size_frac": 0.05, "pad": 0.1},
                 landmarker_decoding={"type": "heatmaps", "crop_scale": 1.4},
                 thresholds={"min_presence_score": 0.5, "min_gesture_score:commands": 0.8})
    return p


@pytest.mark.parametrize("scores, shown", [
    ([0.12, 0.18, 0.20], "commands=none (top pinch 0.20 < 0.80)"),  # (before: commands=none 0.12)
    ([0.05, 0.90, 0.05], "commands=open_palm 0.90"),
    ([0.70, 0.20, 0.10], "commands=none 0.70"),  # none is the top class itself
])
def test_run_shows_the_top_class_of_a_set_below_its_gate(tiny_tflite, tmp_path, monkeypatch, scores, shown):
    import cv2

    from handsdk.stages import GestureClassifier

    real = GestureClassifier.scores

    def scored(self, keypoints, handedness=None):  # a stand-in for a trained commands model's output
        if self.gesture_set == "commands":
            return np.array(scores, np.float32)
        return real(self, keypoints, handedness)

    monkeypatch.setattr(GestureClassifier, "scores", scored)
    bundle = _gated_bundle(tiny_tflite, tmp_path)
    (tmp_path / "img").mkdir()
    cv2.imwrite(str(tmp_path / "img" / "a.png"), red_stroke_frame())
    r = runner.invoke(app, ["run", "--source", str(tmp_path / "img"), "--bundle", str(bundle), "--no-window"])
    assert r.exit_code == 0, r.output
    line = next(x for x in r.output.splitlines() if x.startswith("image 1/1"))
    assert shown in line and "letters=" in line, line
    assert "warning" not in r.output  # (the CLI says its frames are OpenCV's: no colour-order warning)


# ------------------------------------------------------------------ help
def _commands():
    import typer

    def walk(c, path):
        yield path, c
        for n, sub in (getattr(c, "commands", None) or {}).items():
            yield from walk(sub, path + [n])
    return list(walk(typer.main.get_command(app), []))


def test_every_option_has_help_and_a_plain_metavar():
    missing, metavars = [], []
    for path, c in _commands():
        for par in c.params:
            if par.name == "help":
                continue
            if not (getattr(par, "help", None) or "").strip():
                missing.append(f"{' '.join(path)} {par.opts[0]}")
            r = runner.invoke(app, path + ["--help"], env={"COLUMNS": "200"})
            metavars += re.findall(r"<list\[\w+\]>", r.output)
    assert not missing, missing  # (before: --spell-min-score, --warmup, --threads, --detector, ...)
    assert not metavars, metavars
    r = runner.invoke(app, ["convert", "--help"], env={"COLUMNS": "200"})
    assert re.search(r"--gesture\s+<path>", r.output), r.output


def test_help_paragraphs_are_not_cut_at_80_columns():
    for path, c in _commands():
        for para in (c.help or "").split("\n\n"):
            assert para.startswith("\b") or "\n" not in para, (path, para)
    r = runner.invoke(app, ["train", "gesture", "--help"], env={"COLUMNS": "400"})
    assert any(x.strip().startswith("With --data: custom gestures") and x.rstrip().endswith(
        "(see handsdk.train.custom).") for x in r.output.splitlines()), r.output
    r = runner.invoke(app, ["--help"], env={"COLUMNS": "400"})
    assert any("Run detection, keypoints and gestures" in x and "an annotated video." in x
               for x in r.output.splitlines()), r.output
    r = runner.invoke(app, ["capture", "--help"], env={"COLUMNS": "400"})  # a \b block keeps its lines
    capture = next(c for path, c in _commands() if path == ["capture"])
    examples = [x for x in (capture.help or "").splitlines() if "handsdk capture --" in x]
    assert len(examples) >= 4
    assert sum("handsdk capture --" in x for x in r.output.splitlines()) == len(examples)


def test_build_default_time_is_the_same_in_help_and_readme():
    readme = " ".join((REPO / "README.md").read_text().split())
    r = runner.invoke(app, ["build-default", "--help"], env={"COLUMNS": "400"})
    pat = r"about (\d+ hours?(?: \d+ minutes)?) on 2"
    h = re.search(pat, " ".join(r.output.split()))
    m = re.search(pat, readme)
    assert h and m and h.group(1) == m.group(1) == "5 hours"


def test_readme_says_train_gesture_needs_the_train_extra_as_the_cli_does(monkeypatch, tmp_path):
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Custom gestures in minutes", 1)[1].split("\n## ", 1)[0]
    text = " ".join(section.split())
    assert "`train gesture` needs the train extra" in text and "yours; it runs on the base install" not in text
    monkeypatch.setitem(sys.modules, "handsdk.train.tf", None)  # as on the base install: no TensorFlow
    r = runner.invoke(app, ["train", "gesture", "--data", str(tmp_path), "-o", str(tmp_path / "x.handsdk")])
    assert r.exit_code == 2 and "train extra" in r.output, r.output
