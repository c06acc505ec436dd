"""The bundle: round trip and every corruption case."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from handsdk.bundle import (FORMAT_VERSION, MANIFEST, BundleError, GestureSet, add_gesture_set, build_bundle,
                            load_bundle)


def _rezip(bundle_bytes, edit=None, drop=(), add=None, compress=zipfile.ZIP_STORED):
    src = zipfile.ZipFile(io.BytesIO(bundle_bytes))
    manifest = json.loads(src.read(MANIFEST))
    if edit:
        edit(manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compress) as z:
        z.writestr(MANIFEST, json.dumps(manifest))
        for n in src.namelist():
            if n != MANIFEST and n not in drop:
                z.writestr(n, src.read(n))
        for n, b in (add or {}).items():
            z.writestr(n, b)
    return out.getvalue()


def test_round_trip_from_path_and_bytes(bundle_bytes, bundle_path, tiny_tflite):
    for src in (bundle_path, bundle_bytes, str(bundle_path)):
        b = load_bundle(src)
        assert set(b.models) == {"detector", "landmarker", "gesture:commands", "gesture:letters"}
        assert b.model_bytes("detector") == tiny_tflite["detector"]
        assert b.gesture_sets["letters"].labels == ("A", "B", "C", "D")
        assert b.landmarker.inputs["image"].shape == (1, 32, 32, 3)
        assert b.landmarker.inputs["skeleton"].shape == (1, 32, 32, 1)
        assert b.detector.inputs["image"].color == "RGB"
        assert b.manifest["format_version"] == FORMAT_VERSION
        assert b.provenance["training_data"] == ["tests (fixed weights)"]
        assert b.thresholds["min_detection_score"] == 0.5
    # the archive is an uncompressed zip, like MediaPipe's .task
    assert all(i.compress_type == zipfile.ZIP_STORED for i in zipfile.ZipFile(io.BytesIO(bundle_bytes)).infolist())
    s = load_bundle(bundle_bytes).summary()
    json.dumps(s)
    assert s["models"]["gesture:commands"]["labels"] == ["none", "open_palm", "fist"]


def test_not_a_bundle(tmp_path):
    p = tmp_path / "x.handsdk"
    p.write_bytes(b"TFL3" + b"\0" * 100)
    with pytest.raises(BundleError, match="not a zip"):
        load_bundle(p)
    with pytest.raises(BundleError, match="not a handsdk bundle"):
        load_bundle(b"")
    with pytest.raises(BundleError, match="folder"):
        load_bundle(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_bundle(tmp_path / "missing.handsdk")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("hello.txt", "hi")
    with pytest.raises(BundleError, match="no manifest.json"):
        load_bundle(z.getvalue())


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95, 0.999])
def test_truncated(bundle_bytes, cut):
    with pytest.raises(BundleError, match="truncated|corrupt|not a zip|declared size"):
        load_bundle(bundle_bytes[: int(len(bundle_bytes) * cut)])


def test_wrong_hash(bundle_bytes):
    data = bytearray(bundle_bytes)
    z = zipfile.ZipFile(io.BytesIO(bundle_bytes))
    info = z.getinfo("landmarker.tflite")
    # flip a byte inside the stored model data
    off = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size // 2
    data[off] ^= 0xFF
    with pytest.raises(BundleError, match="landmarker.*(sha256|corrupt)|CRC|corrupt"):
        load_bundle(bytes(data))
    # a manifest whose hash does not match (data intact)
    bad = _rezip(bundle_bytes, lambda m: m["models"]["detector"].update(sha256="0" * 64))
    with pytest.raises(BundleError, match="detector.tflite.*sha256"):
        load_bundle(bad)


def test_missing_model(bundle_bytes):
    with pytest.raises(BundleError, match="gesture_letters.tflite.*missing"):
        load_bundle(_rezip(bundle_bytes, drop=("gesture_letters.tflite",)))
    with pytest.raises(BundleError, match="missing model 'landmarker'"):
        load_bundle(_rezip(bundle_bytes, lambda m: m["models"].pop("landmarker")))

    def no_gesture(m):
        for k in [k for k in m["models"] if k.startswith("gesture:")]:
            m["models"].pop(k)
    with pytest.raises(BundleError, match="no gesture model"):
        load_bundle(_rezip(bundle_bytes, no_gesture))


def test_unknown_format_version(bundle_bytes):
    with pytest.raises(BundleError, match="newer than this handsdk"):
        load_bundle(_rezip(bundle_bytes, lambda m: m.update(format_version=FORMAT_VERSION + 1)))
    with pytest.raises(BundleError, match="format"):
        load_bundle(_rezip(bundle_bytes, lambda m: m.update(format="something-else")))
    with pytest.raises(BundleError, match="format_version"):
        load_bundle(_rezip(bundle_bytes, lambda m: m.pop("format_version")))


def test_path_traversal_and_unsafe_names(bundle_bytes):
    with pytest.raises(BundleError, match="unsafe path"):
        load_bundle(_rezip(bundle_bytes, add={"../evil.tflite": b"x"}))
    with pytest.raises(BundleError, match="unsafe path"):
        load_bundle(_rezip(bundle_bytes, add={"/etc/passwd": b"x"}))
    with pytest.raises(BundleError, match="unsafe path"):
        load_bundle(_rezip(bundle_bytes, add={"sub/model.tflite": b"x"}))
    with pytest.raises(BundleError, match="models.detector.file.*plain file name"):
        load_bundle(_rezip(bundle_bytes, lambda m: m["models"]["detector"].update(file="../detector.tflite")))


def test_absurd_sizes(bundle_bytes, monkeypatch):
    import handsdk.bundle as hb
    import handsdk.bundle.read

    monkeypatch.setattr(handsdk.bundle.read, "MAX_FILE_BYTES", 1000)  # (the limit the archive reader checks)
    with pytest.raises(BundleError, match="absurdly large"):
        load_bundle(bundle_bytes)
    monkeypatch.undo()
    many = {f"f{i}.bin": b"" for i in range(hb.MAX_ENTRIES + 1)}
    with pytest.raises(BundleError, match="entries"):
        load_bundle(_rezip(bundle_bytes, add=many))
    # a zip bomb: tiny compressed, huge declared size
    bomb = _rezip(bundle_bytes, add={"pad.bin": b"\0" * (hb.MAX_FILE_BYTES + 1)}, compress=zipfile.ZIP_DEFLATED)
    assert len(bomb) < 200_000  # a 64 MiB entry compressed to a few dozen KiB
    with pytest.raises(BundleError, match="absurdly large"):
        load_bundle(bomb)
    with pytest.raises(BundleError, match=r"models.detector.inputs.image.shape\[1\]: expected an integer in \[1, 65536\]"):
        load_bundle(_rezip(bundle_bytes, lambda m: m["models"]["detector"]["inputs"]["image"].update(
            shape=[1, 10 ** 9, 3, 3])))


def test_tensors_must_match_the_manifest(bundle_bytes):
    def wrong_shape(m):
        m["models"]["landmarker"]["inputs"]["image"]["shape"] = [1, 64, 64, 3]
    with pytest.raises(BundleError, match="landmarker.*image"):
        load_bundle(_rezip(bundle_bytes, wrong_shape))

    def wrong_name(m):
        outs = m["models"]["landmarker"]["outputs"]
        outs["presence_score"] = outs.pop("presence")
    with pytest.raises(BundleError, match="outputs"):
        load_bundle(_rezip(bundle_bytes, wrong_name))

    def wrong_labels(m):
        m["models"]["gesture:letters"]["labels"] = ["A", "B"]
    with pytest.raises(BundleError, match="4 outputs but 2 labels"):
        load_bundle(_rezip(bundle_bytes, wrong_labels))
    # a model file that is not a TFLite model at all (hash updated to match)
    import hashlib
    junk = b"not a flatbuffer" * 10

    def junk_model(m):
        m["models"]["detector"].update(sha256=hashlib.sha256(junk).hexdigest())
    z = zipfile.ZipFile(io.BytesIO(bundle_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as w:
        man = json.loads(z.read(MANIFEST))
        junk_model(man)
        w.writestr(MANIFEST, json.dumps(man))
        for n in z.namelist():
            if n != MANIFEST:
                w.writestr(n, junk if n == "detector.tflite" else z.read(n))
    with pytest.raises(BundleError, match="detector.*could not load"):
        load_bundle(out.getvalue())


def test_bad_manifest_json(bundle_bytes):
    z = zipfile.ZipFile(io.BytesIO(bundle_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as w:
        w.writestr(MANIFEST, "{not json")
        for n in z.namelist():
            if n != MANIFEST:
                w.writestr(n, z.read(n))
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(out.getvalue())
    with pytest.raises(BundleError, match="keypoint order"):
        load_bundle(_rezip(bundle_bytes, lambda m: m["keypoints"].update(order=list(reversed(m["keypoints"]["order"])))))
    with pytest.raises(BundleError, match="unknown model role"):
        load_bundle(_rezip(bundle_bytes, lambda m: m["models"].update(extra=m["models"]["detector"])))


def test_build_bundle_rejects_bad_input(tiny_tflite, tmp_path):
    with pytest.raises(ValueError, match="at least one gesture set"):
        build_bundle(detector=tiny_tflite["detector"], landmarker=tiny_tflite["landmarker"], gestures={})
    with pytest.raises(ValueError, match="gesture set name"):
        build_bundle(detector=tiny_tflite["detector"], landmarker=tiny_tflite["landmarker"],
                     gestures={"a/b": GestureSet(tiny_tflite["commands"], ("x", "y", "z"))})
    with pytest.raises(BundleError, match="3 outputs but 2 labels"):
        build_bundle(detector=tiny_tflite["detector"], landmarker=tiny_tflite["landmarker"],
                     gestures={"c": GestureSet(tiny_tflite["commands"], ("x", "y"))})
    # paths work as well as bytes, and the output file is written
    for k in ("detector", "landmarker", "commands"):
        (tmp_path / f"{k}.tflite").write_bytes(tiny_tflite[k])
    out = tmp_path / "b.handsdk"
    data = build_bundle(out, detector=tmp_path / "detector.tflite", landmarker=tmp_path / "landmarker.tflite",
                        gestures={"commands": GestureSet(tmp_path / "commands.tflite", ("a", "b", "c"))})
    assert out.read_bytes() == data and load_bundle(out).gesture_sets["commands"].labels == ("a", "b", "c")


def test_add_gesture_set_adds_or_replaces_one_set(bundle_bytes, bundle_path, tiny_tflite, tmp_path):
    base = load_bundle(bundle_bytes)
    out = tmp_path / "more.handsdk"
    data = add_gesture_set(bundle_path, "mine", tiny_tflite["commands"], ("none", "a", "b"), output=out,
                           metrics={"accuracy": 0.9}, provenance={"custom": {"n": 3}}, name="extended")
    b = load_bundle(out)
    assert out.read_bytes() == data
    assert set(b.models) == set(base.models) | {"gesture:mine"} and b.manifest["name"] == "extended"
    for role in base.models:  # the other models and their entries are untouched
        assert b.model_bytes(role) == base.model_bytes(role)
        assert b.manifest["models"][role] == base.manifest["models"][role]
    e = b.manifest["models"]["gesture:mine"]
    assert e["file"] == "gesture_mine.tflite" and e["labels"] == ["none", "a", "b"] and e["metrics"] == {"accuracy": 0.9}
    assert e["decoding"] == {"kind": "commands", "none_label": "none", "feature": "keypoint_features",
                             "canonical_hand": "Right"}
    assert b.provenance["custom"] == {"n": 3} and b.provenance["training_data"] == base.provenance["training_data"]
    # replacing a set keeps one entry and one file for it (a Bundle works as the base too)
    again = load_bundle(add_gesture_set(b, "mine", tiny_tflite["letters"], ("w", "x", "y", "z"), kind="spelling"))
    assert again.gesture_sets["mine"].labels == ("w", "x", "y", "z")
    assert set(again.files) == set(b.files) and again.model_bytes("gesture:mine") == tiny_tflite["letters"]
    # a replaced set keeps its place (the first set is what Hand.gesture() reads by default)
    first = next(iter(b.gesture_sets))
    swapped = load_bundle(add_gesture_set(b, first, tiny_tflite["commands"], ("none", "open_palm", "fist")))
    assert list(swapped.gesture_sets) == list(b.gesture_sets)
    assert swapped.model_bytes(f"gesture:{first}") == tiny_tflite["commands"]
    with pytest.raises(ValueError, match="gesture set name"):
        add_gesture_set(base, "a b", tiny_tflite["commands"], ("x", "y", "z"))
    with pytest.raises(BundleError, match="3 outputs but 2 labels"):
        add_gesture_set(base, "c2", tiny_tflite["commands"], ("x", "y"))


def test_add_gesture_set_is_runtime_only():
    import subprocess
    import sys

    code = ("import sys, handsdk.bundle\nprint(any(m == 'tensorflow' or m.startswith('handsdk.train') "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr


def test_int8_models_are_quantised_at_the_boundary():
    """A full-integer model (int8 in, int8 out) is fed and read as float."""
    pytest.importorskip("tensorflow")
    from handsdk.backends import TFLiteModel
    from handsdk.convert.tflite import keras_to_tflite
    from tests.conftest import tiny_detector

    m = tiny_detector((16, 16))
    rng = np.random.default_rng(0)
    calib = [{"image": rng.uniform(0, 1, (1, 16, 16, 3)).astype(np.float32)} for _ in range(20)]
    q = TFLiteModel(keras_to_tflite(m, "int8", lambda: calib))
    assert q.inputs["image"].quantized and q.inputs["image"].dtype == np.int8
    x = rng.uniform(0, 1, (1, 16, 16, 3)).astype(np.float32)
    got = q(image=x)["skeleton"]
    want = m(x).numpy()
    assert got.dtype == np.float32
    assert np.abs(got - want).max() < 0.05
