"""The formats table drives conversion and the CLI; device profiles hold only
fields the code reads (issue 12, point 4). Fast: no model is trained, the
one conversion is a tiny GestureNet."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from handsdk.cli import app
from handsdk.convert.formats import FALLBACK_FORMATS, FORMATS, INSTALL, Format, get_format

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _convert_params():
    import typer.main

    cmd = typer.main.get_command(app).commands["convert"]
    return {p.name: p for p in cmd.params}


def test_cli_format_and_fallback_choices_and_help_are_the_tables_rows():
    params = _convert_params()
    assert params["fmt"].metavar == "[" + "|".join(FORMATS) + "]"
    assert params["fallback"].metavar == "[" + "|".join(FALLBACK_FORMATS) + "]"
    for name, f in FORMATS.items():
        assert f"{name}: {f.description}" in params["fmt"].help
    assert set(FALLBACK_FORMATS) == {k for k, f in FORMATS.items() if f.backend == "tflite"}


def test_every_row_resolves_without_importing_tensorflow():
    code = ("import sys, handsdk, handsdk.cli\n"
            "from handsdk.convert.formats import FORMATS\n"
            "fns = {k: f.resolve() for k, f in FORMATS.items()}\n"
            "assert all(callable(v) for v in fns.values()), fns\n"
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tf_keras', 'tf2onnx', 'tensorrt')"
            " or m.startswith('handsdk.train')]\n"
            "assert not heavy, heavy\n"
            "print('ok', len(fns))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == f"ok {len(FORMATS)}"


def test_rows_agree_with_the_bundle_and_the_runtime():
    from handsdk.bundle import MODEL_SUFFIXES, QUANTIZATIONS
    from handsdk.convert.tensorrt import PRECISIONS
    from handsdk.convert.tflite import PTQ_MODES

    modes = {"tflite": PTQ_MODES, "onnxruntime": ("fp32",), "tensorrt": PRECISIONS}
    suffix = {"tflite": ".tflite", "onnxruntime": ".onnx", "tensorrt": ".engine"}
    for name, f in FORMATS.items():
        assert f.quantization in QUANTIZATIONS, name
        assert f.suffix in MODEL_SUFFIXES and f.suffix == suffix[f.backend], name
        assert f.mode in modes[f.backend], name
        assert set(f.requires) <= set(INSTALL), name
        assert f.needs_calibration == (f.mode == "int8"), name
        assert f.description, name


def test_the_converter_named_by_a_row_converts_and_its_model_runs():
    """The table's fp32 row converts a tiny GestureNet; the model reloads in
    the runtime and has the row's suffix."""
    pytest.importorskip("tensorflow")
    from handsdk.backends import model_suffix, open_model
    from handsdk.convert.api import Trained, convert_model
    from tests.conftest import tiny_gesture

    t = Trained("gesture:commands", tiny_gesture(3), {}, "mem")
    data, info = convert_model(t, "fp32", progress=lambda m: None)
    assert model_suffix(data) == FORMATS["fp32"].suffix
    m = open_model(data)
    (shape,) = [i.shape for i in m.inputs.values()]
    (out,) = m(keypoints=np.zeros(shape, np.float32)).values()
    assert out.shape == (1, 3) and info == {}


def _wrong_suffix_converter(trained, fmt, calibration=None, **kw):
    from handsdk.backends.tensorrt import pack_engine

    return pack_engine(b"E", {"x": (1, 2)}, {"y": (1, 2)}), {}


def test_a_converter_that_makes_another_kind_of_model_is_an_error(monkeypatch):
    from handsdk.backends import model_suffix
    from handsdk.backends.tensorrt import pack_engine
    from handsdk.convert.api import ConversionError, Trained, convert_model

    assert model_suffix(pack_engine(b"E", {}, {})) == ".engine"
    monkeypatch.setitem(FORMATS, "fake", Format("fake", f"{__name__}:_wrong_suffix_converter", ".tflite", "fp32",
                                                "fp32", "tflite", ()))
    with pytest.raises(ConversionError, match="formats table says .tflite"):
        convert_model(Trained("detector", None, {}, "mem"), "fake")


def test_unknown_formats_and_devices_say_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="unknown format 'int4'; choose one of " + ", ".join(FORMATS)):
        get_format("int4")
    args = ["convert", "--detector", "d", "--pose", "p", "--gesture", "g", "-o", str(tmp_path / "x.handsdk")]
    r = runner.invoke(app, args + ["--format", "int4"])
    assert r.exit_code == 2 and ", ".join(FORMATS) in r.output
    r = runner.invoke(app, args + ["--fallback", "onnx"])
    assert r.exit_code == 2 and ", ".join(FALLBACK_FORMATS) in r.output
    from handsdk.devices import list_devices, load_device

    r = runner.invoke(app, args + ["--device", "toaster"])
    assert r.exit_code == 2 and "unknown device 'toaster'" in r.output and ", ".join(list_devices()) in r.output
    with pytest.raises(KeyError, match="known devices: " + ", ".join(list_devices())):
        load_device("../devices/rpi4")


def test_a_format_that_cannot_be_built_here_says_where(monkeypatch):
    from handsdk.convert.api import ConversionError, Trained, convert_model

    monkeypatch.setitem(FORMATS, "needs-x", Format("needs-x", "handsdk.convert.tflite:convert_trained", ".tflite",
                                                   "fp32", "fp32", "tflite", ("tensorrt", "no_such_module_xyz")))
    with pytest.raises(ConversionError, match="needs .*no_such_module_xyz.*Jetson"):
        convert_model(Trained("detector", None, {}, "mem"), "needs-x")
    if FORMATS["tensorrt"].missing():
        assert "Jetson" in FORMATS["tensorrt"].unavailable()


def test_device_profiles_hold_only_fields_the_code_reads():
    """Each JSON holds exactly FIELDS, and each field is read by name
    somewhere in the package (notes: shown whole by `devices show`)."""
    from handsdk.devices import FIELDS, list_devices, load_device

    assert len(list_devices()) >= 7
    src = "\n".join(p.read_text() for top in ("sdk", "convert") for p in (REPO / top).rglob("*.py"))
    for field in FIELDS:
        if field == "notes":
            continue
        assert re.search(rf"""(\[|\.get\()["']{field}["']""", src), f"nothing reads the device field {field!r}"
    for name in list_devices():
        raw = json.loads((REPO / "devices" / f"{name}.json").read_text())
        assert set(raw) == set(FIELDS), name
        d = load_device(name)
        assert d["id"] == name and d["format"] in FORMATS and d["backend"] == FORMATS[d["format"]].backend
    r = runner.invoke(app, ["devices", "show", "coral_edgetpu"])
    assert r.exit_code == 0 and "edgetpu_compiler" in json.loads(r.output)["notes"]


def test_a_profile_with_a_field_nothing_reads_is_refused(tmp_path, monkeypatch):
    import handsdk.devices as devices

    good = json.loads((REPO / "devices" / "rpi4.json").read_text())
    (tmp_path / "a.json").write_text(json.dumps(dict(good, delegate="xnnpack")))
    (tmp_path / "b.json").write_text(json.dumps(dict(good, format="int4")))
    monkeypatch.setattr(devices, "_DIR", tmp_path)
    with pytest.raises(ValueError, match="nothing reads: \\['delegate'\\]"):
        devices.load_device("a")
    with pytest.raises(ValueError, match="unknown format 'int4'; choose one of"):
        devices.load_device("b")


def test_tensorrt_module_runs_as_a_script():
    from handsdk.convert.tensorrt import main

    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
