"""The model bundle: one self-describing file with the whole pipeline.

A bundle is an uncompressed zip (like MediaPipe's ``.task``) holding
``manifest.json`` and the ``.tflite`` models it names: a hand detector, a
landmarker and one or more gesture classifiers (gesture *sets*, e.g.
``commands`` and ``asl_letters``). Loading validates everything and never
executes code from the file: the manifest is JSON, the models are flatbuffers
run by the TFLite interpreter.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .keypoints import HAND_CONNECTIONS, KEYPOINT_NAMES

FORMAT = "handsdk-bundle"
FORMAT_VERSION = 1
SUFFIX = ".handsdk"
MANIFEST = "manifest.json"

#: limits that reject absurd archives before anything is read
MAX_ENTRIES = 64
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_MANIFEST_BYTES = 1024 * 1024

ROLES = ("detector", "landmarker")
QUANTIZATIONS = ("fp32", "fp16", "dynamic", "int8", "qat-int8", "int8-trt", "fp16-trt")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
#: model file kinds a bundle may hold (TFLite, ONNX for onnxruntime, TensorRT engines)
MODEL_SUFFIXES = (".tflite", ".onnx", ".engine")
_DTYPES = ("float32", "float16", "int8", "uint8", "int16", "int32")


class BundleError(ValueError):
    """The file is not a valid handsdk bundle; the message says what is wrong."""


def _sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple
    dtype: str
    layout: str | None = None
    color: str | None = None
    #: x = (pixel - mean) / std per channel, for image inputs
    mean: tuple | None = None
    std: tuple | None = None

    @classmethod
    def from_json(cls, name: str, d: Mapping, where: str) -> "TensorSpec":
        try:
            shape = tuple(int(v) for v in d["shape"])
            dtype = str(d["dtype"])
        except (KeyError, TypeError, ValueError) as e:
            raise BundleError(f"{where}: tensor {name!r} needs 'shape' (list of ints) and 'dtype'") from e
        if dtype not in _DTYPES:
            raise BundleError(f"{where}: tensor {name!r} has unknown dtype {dtype!r}")
        if any(v <= 0 or v > 65536 for v in shape) or len(shape) > 5:
            raise BundleError(f"{where}: tensor {name!r} has an absurd shape {shape}")
        norm = d.get("normalization") or {}
        mean = tuple(float(v) for v in norm["mean"]) if "mean" in norm else None
        std = tuple(float(v) for v in norm["std"]) if "std" in norm else None
        if std is not None and any(v == 0 for v in std):
            raise BundleError(f"{where}: tensor {name!r} has a zero std")
        color = d.get("color")
        if color not in (None, "RGB", "BGR", "GRAY"):
            raise BundleError(f"{where}: tensor {name!r} has unknown colour order {color!r}")
        return cls(name=name, shape=shape, dtype=dtype, layout=d.get("layout"), color=color,
                   mean=mean, std=std)

    def to_json(self) -> dict:
        d: dict[str, Any] = {"shape": list(self.shape), "dtype": self.dtype}
        if self.layout:
            d["layout"] = self.layout
        if self.color:
            d["color"] = self.color
        if self.mean is not None or self.std is not None:
            d["normalization"] = {"mean": list(self.mean or ()), "std": list(self.std or ())}
        return d


@dataclass(frozen=True)
class ModelEntry:
    """One model of the bundle, as the manifest describes it."""

    role: str  # "detector", "landmarker" or "gesture:<set>"
    file: str
    sha256: str
    size: int
    inputs: dict
    outputs: dict
    quantization: str
    decoding: dict = field(default_factory=dict)
    labels: tuple = ()
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        d = {"file": self.file, "sha256": self.sha256, "size": self.size,
             "inputs": {k: v.to_json() for k, v in self.inputs.items()},
             "outputs": {k: v.to_json() for k, v in self.outputs.items()},
             "quantization": self.quantization, "decoding": dict(self.decoding)}
        if self.labels:
            d["labels"] = list(self.labels)
        d.update(self.extra)
        return d


def _parse_entry(role: str, d: Any) -> ModelEntry:
    where = f"manifest model {role!r}"
    if not isinstance(d, Mapping):
        raise BundleError(f"{where}: expected an object")
    for key in ("file", "sha256", "inputs", "outputs", "quantization"):
        if key not in d:
            raise BundleError(f"{where}: missing {key!r}")
    file = d["file"]
    if not isinstance(file, str) or not _SAFE_NAME.match(file) or file in (".", ".."):
        raise BundleError(f"{where}: unsafe or invalid file name {file!r} (plain names only, no folders)")
    if d["quantization"] not in QUANTIZATIONS:
        raise BundleError(f"{where}: unknown quantization {d['quantization']!r}, expected one of {QUANTIZATIONS}")
    if not isinstance(d["inputs"], Mapping) or not d["inputs"] or not isinstance(d["outputs"], Mapping) or not d["outputs"]:
        raise BundleError(f"{where}: 'inputs' and 'outputs' must be non-empty objects")
    inputs = {k: TensorSpec.from_json(k, v, where) for k, v in d["inputs"].items()}
    outputs = {k: TensorSpec.from_json(k, v, where) for k, v in d["outputs"].items()}
    labels = tuple(str(x) for x in d.get("labels", ()))
    known = {"file", "sha256", "size", "inputs", "outputs", "quantization", "decoding", "labels"}
    return ModelEntry(role=role, file=file, sha256=str(d["sha256"]), size=int(d.get("size", 0)),
                      inputs=inputs, outputs=outputs, quantization=d["quantization"],
                      decoding=dict(d.get("decoding") or {}), labels=labels,
                      extra={k: v for k, v in d.items() if k not in known})


@dataclass(frozen=True)
class Bundle:
    """A loaded, validated bundle. ``models`` maps role -> ModelEntry;
    ``files`` holds each model's bytes."""

    manifest: dict
    models: dict
    files: dict
    source: str = "<bytes>"

    @property
    def detector(self) -> ModelEntry:
        return self.models["detector"]

    @property
    def landmarker(self) -> ModelEntry:
        return self.models["landmarker"]

    @property
    def gesture_sets(self) -> dict:
        return {r.split(":", 1)[1]: e for r, e in self.models.items() if r.startswith("gesture:")}

    @property
    def thresholds(self) -> dict:
        return dict(self.manifest.get("thresholds", {}))

    @property
    def provenance(self) -> dict:
        return dict(self.manifest.get("provenance", {}))

    def model_bytes(self, role: str) -> bytes:
        return self.files[self.models[role].file]

    def summary(self) -> dict:
        """A JSON-able summary for `handsdk bundle inspect`."""
        return {
            "source": self.source,
            "format_version": self.manifest["format_version"],
            "name": self.manifest.get("name"),
            "size_bytes": sum(len(b) for b in self.files.values()),
            "models": {r: {"file": e.file, "size_bytes": len(self.files[e.file]),
                           "quantization": e.quantization,
                           "inputs": {k: [list(v.shape), v.dtype] for k, v in e.inputs.items()},
                           "outputs": {k: [list(v.shape), v.dtype] for k, v in e.outputs.items()},
                           **({"labels": list(e.labels)} if e.labels else {})}
                       for r, e in self.models.items()},
            "thresholds": self.thresholds,
            "provenance": self.provenance,
        }


def _read_zip(data: bytes, source: str) -> tuple[dict, dict]:
    if len(data) < 22:
        raise BundleError(f"{source}: not a handsdk bundle (only {len(data)} bytes)")
    if data[:4] != b"PK\x03\x04":
        raise BundleError(f"{source}: not a handsdk bundle (not a zip archive; a bundle is a "
                          f"'{SUFFIX}' file written by `handsdk convert` or handsdk.bundle.build_bundle)")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise BundleError(f"{source}: truncated or corrupt bundle ({e})") from e
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise BundleError(f"{source}: {len(infos)} entries in the archive (at most {MAX_ENTRIES})")
    total = 0
    for info in infos:
        n = info.filename
        if n.startswith(("/", "\\")) or ".." in n.replace("\\", "/").split("/") or "\\" in n or ":" in n \
                or "/" in n:
            raise BundleError(f"{source}: unsafe path {n!r} in the archive (path traversal or folders)")
        if info.file_size > MAX_FILE_BYTES:
            raise BundleError(f"{source}: entry {n!r} is absurdly large ({info.file_size} bytes)")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise BundleError(f"{source}: the archive unpacks to {total} bytes (at most {MAX_TOTAL_BYTES})")
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise BundleError(f"{source}: duplicate entries in the archive")
    if MANIFEST not in names:
        raise BundleError(f"{source}: no {MANIFEST} in the archive (not a handsdk bundle)")
    files = {}
    for info in infos:
        try:
            with zf.open(info) as f:
                b = f.read(info.file_size + 1)
        except (zipfile.BadZipFile, EOFError, OSError, zlib_error()) as e:
            raise BundleError(f"{source}: truncated or corrupt entry {info.filename!r} ({e})") from e
        if len(b) != info.file_size:
            raise BundleError(f"{source}: entry {info.filename!r} does not match its declared size")
        files[info.filename] = b
    raw = files.pop(MANIFEST)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise BundleError(f"{source}: {MANIFEST} is absurdly large")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"{source}: {MANIFEST} is not valid JSON ({e})") from e
    if not isinstance(manifest, dict):
        raise BundleError(f"{source}: {MANIFEST} must be a JSON object")
    return manifest, files


def zlib_error():
    import zlib

    return zlib.error


def parse_manifest(manifest: dict, files: Mapping[str, bytes], source: str = "<bytes>") -> Bundle:
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{source}: manifest 'format' is {manifest.get('format')!r}, expected {FORMAT!r}")
    ver = manifest.get("format_version")
    if not isinstance(ver, int) or ver < 1:
        raise BundleError(f"{source}: manifest has no valid 'format_version'")
    if ver > FORMAT_VERSION:
        raise BundleError(f"{source}: bundle format version {ver} is newer than this handsdk understands "
                          f"({FORMAT_VERSION}); upgrade handsdk")
    kp = manifest.get("keypoints", {})
    if list(kp.get("order", KEYPOINT_NAMES)) != list(KEYPOINT_NAMES):
        raise BundleError(f"{source}: the bundle's keypoint order is not MediaPipe's 21-point order")
    raw_models = manifest.get("models")
    if not isinstance(raw_models, Mapping):
        raise BundleError(f"{source}: manifest has no 'models' object")
    models = {}
    for role in ROLES:
        if role not in raw_models:
            raise BundleError(f"{source}: missing model {role!r} in the manifest")
    for role, d in raw_models.items():
        if role not in ROLES and not re.match(r"^gesture:[A-Za-z0-9_-]+$", role):
            raise BundleError(f"{source}: unknown model role {role!r} (expected detector, landmarker, gesture:<set>)")
        e = _parse_entry(role, d)
        if role.startswith("gesture:"):
            if not e.labels:
                raise BundleError(f"{source}: gesture model {role!r} has no labels")
            if len(set(e.labels)) != len(e.labels):
                raise BundleError(f"{source}: gesture model {role!r} has duplicate labels")
        if e.file not in files:
            raise BundleError(f"{source}: model file {e.file!r} ({role}) is missing from the archive")
        b = files[e.file]
        if _sha256(b) != e.sha256:
            raise BundleError(f"{source}: model file {e.file!r} ({role}) is corrupt: its sha256 does not "
                              f"match the manifest")
        models[role] = e
    if not any(r.startswith("gesture:") for r in models):
        raise BundleError(f"{source}: the bundle has no gesture model")
    used = {e.file for e in models.values()}
    return Bundle(manifest=manifest, models=models, files={k: v for k, v in files.items() if k in used},
                  source=source)


def check_models(bundle: Bundle, backend: str = "auto") -> None:
    """Load every model in an interpreter and check that its tensors match the
    manifest (names, shapes, dtypes)."""
    from .backend import BackendError, open_model

    for role, e in bundle.models.items():
        try:
            m = open_model(bundle.files[e.file], backend=backend, num_threads=1, name=f"{role} ({e.file})")
        except BackendError as err:
            raise BundleError(f"{bundle.source}: {err}") from err
        for kind, want, got in (("input", e.inputs, m.inputs), ("output", e.outputs, m.outputs)):
            if set(want) != set(got):
                raise BundleError(f"{bundle.source}: model {role!r}: the manifest lists {kind}s {sorted(want)} "
                                  f"but the model has {sorted(got)}")
            for k, spec in want.items():
                if tuple(spec.shape) != tuple(got[k].shape) or np.dtype(spec.dtype) != got[k].dtype:
                    raise BundleError(
                        f"{bundle.source}: model {role!r} {kind} {k!r} is {got[k].shape} {got[k].dtype} "
                        f"but the manifest says {tuple(spec.shape)} {spec.dtype}")
        if role.startswith("gesture:"):
            (out,) = e.outputs.values()
            if out.shape[-1] != len(e.labels):
                raise BundleError(f"{bundle.source}: model {role!r} has {out.shape[-1]} outputs but "
                                  f"{len(e.labels)} labels")


def load_bundle(source, *, check: bool = True, backend: str = "auto") -> Bundle:
    """Load and validate a bundle from a path or bytes. With ``check`` every
    model is also loaded by the interpreter and its tensors compared with the
    manifest."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), "<bytes>"
    else:
        p = Path(os.fspath(source))
        name = str(p)
        if not p.exists():
            raise FileNotFoundError(f"bundle not found: {p}")
        if p.is_dir():
            raise BundleError(f"{p} is a folder, not a bundle file")
        size = p.stat().st_size
        if size > MAX_TOTAL_BYTES + MAX_MANIFEST_BYTES:
            raise BundleError(f"{p}: absurdly large for a bundle ({size} bytes)")
        data = p.read_bytes()
    manifest, files = _read_zip(data, name)
    bundle = parse_manifest(manifest, files, name)
    if check:
        check_models(bundle, backend=backend)
    return bundle


# ---------------------------------------------------------------- building

def describe_tflite(content: bytes, *, image_inputs=("image",), color="RGB",
                    mean=(0.0, 0.0, 0.0), std=(255.0, 255.0, 255.0)) -> tuple[dict, dict]:
    """Input/output specs of a TFLite model as the manifest records them,
    read from the model itself. Inputs named in ``image_inputs`` get the colour
    order and normalisation; the ``skeleton`` input is a [0, 1] map."""
    from .backend import open_model

    m = open_model(content, num_threads=1, name="model")
    ins = {}
    for k, t in m.inputs.items():
        if k in image_inputs:
            ins[k] = TensorSpec(k, t.shape, t.dtype.name, "NHWC", color, tuple(mean), tuple(std))
        else:
            ins[k] = TensorSpec(k, t.shape, t.dtype.name, "NHWC" if len(t.shape) == 4 else None)
    outs = {k: TensorSpec(k, t.shape, t.dtype.name) for k, t in m.outputs.items()}
    return ins, outs


def _model_json(content: bytes, file: str, quantization: str, decoding: dict | None,
                labels=None, **describe_kw) -> dict:
    ins, outs = describe_tflite(content, **describe_kw)
    e = ModelEntry(role="", file=file, sha256=_sha256(content), size=len(content), inputs=ins, outputs=outs,
                   quantization=quantization, decoding=dict(decoding or {}), labels=tuple(labels or ()))
    return e.to_json()


def _suffix(content: bytes) -> str:
    from .backend import is_onnx

    return ".engine" if content[:4] == b"HTRT" else ".onnx" if is_onnx(content) else ".tflite"


def _read(x) -> bytes:
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    return Path(os.fspath(x)).read_bytes()


@dataclass
class GestureSet:
    """A gesture classifier and its labels, for :func:`build_bundle`."""

    model: Any  # bytes or path of the .tflite
    labels: tuple
    kind: str = "commands"  # "commands" or "spelling"
    none_label: str | None = "none"
    quantization: str = "fp32"
    metrics: dict = field(default_factory=dict)


def build_bundle(output=None, *, detector, landmarker, gestures: Mapping[str, GestureSet],
                 detector_decoding: dict | None = None, landmarker_decoding: dict | None = None,
                 quantization: str | Mapping[str, str] = "fp32", thresholds: dict | None = None,
                 provenance: dict | None = None, name: str = "handsdk", color: str = "RGB",
                 mean=(0.0, 0.0, 0.0), std=(255.0, 255.0, 255.0)) -> bytes:
    """Build a bundle from three (or more) ``.tflite`` files (paths or bytes)
    plus metadata. Writes it to ``output`` when given; returns its bytes.

    The tensor specs are read from the models themselves; the result is loaded
    back and checked before it is returned.
    """
    if not gestures:
        raise ValueError("a bundle needs at least one gesture set")
    q = quantization if isinstance(quantization, Mapping) else {}
    qd = quantization if isinstance(quantization, str) else "fp32"
    det_b, lm_b = _read(detector), _read(landmarker)
    files = {f"detector{_suffix(det_b)}": det_b, f"landmarker{_suffix(lm_b)}": lm_b}
    models = {
        "detector": _model_json(det_b, f"detector{_suffix(det_b)}", q.get("detector", qd), detector_decoding,
                                color=color, mean=mean, std=std),
        "landmarker": _model_json(lm_b, f"landmarker{_suffix(lm_b)}", q.get("landmarker", qd),
                                  landmarker_decoding, color=color, mean=mean, std=std),
    }
    for set_name, g in gestures.items():
        if not re.match(r"^[A-Za-z0-9_-]+$", set_name):
            raise ValueError(f"gesture set name {set_name!r}: letters, digits, '_' and '-' only")
        b = _read(g.model)
        fname = f"gesture_{set_name}{_suffix(b)}"
        files[fname] = b
        entry = _model_json(b, fname, g.quantization, {"kind": g.kind, "none_label": g.none_label},
                            labels=g.labels, image_inputs=())
        if g.metrics:
            entry["metrics"] = g.metrics
        models[f"gesture:{set_name}"] = entry
    from . import __version__

    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "handsdk_version": __version__,
        "keypoints": {"order": list(KEYPOINT_NAMES), "connections": [list(c) for c in HAND_CONNECTIONS]},
        "models": models,
        "thresholds": dict(DEFAULT_THRESHOLDS, **(thresholds or {})),
        "provenance": dict(provenance or {}),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=False))
        for k, b in files.items():
            zf.writestr(k, b)
    data = buf.getvalue()
    load_bundle(data)  # never write a bundle that would not load
    if output is not None:
        Path(os.fspath(output)).write_bytes(data)
    return data


DEFAULT_THRESHOLDS = {
    "min_detection_score": 0.5,
    "min_presence_score": 0.5,
    "min_gesture_score": 0.5,
}


def default_bundle_path() -> Path | None:
    """The bundle that ships with the package, if this install has one."""
    p = Path(__file__).parent / "models" / f"default{SUFFIX}"
    return p if p.exists() else None
