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
    """A model entry the schema has checked (see :data:`MANIFEST_SCHEMA`)."""
    where = f"manifest model {role!r}"
    file = d["file"]
    if file in (".", ".."):
        raise BundleError(f"{where}: unsafe or invalid file name {file!r} (plain names only, no folders)")
    inputs = {k: TensorSpec.from_json(k, v, where) for k, v in d["inputs"].items()}
    outputs = {k: TensorSpec.from_json(k, v, where) for k, v in d["outputs"].items()}
    if not inputs or not outputs:
        raise BundleError(f"{where}: 'inputs' and 'outputs' must be non-empty objects")
    labels = tuple(d.get("labels") or ())
    known = {"file", "sha256", "size", "inputs", "outputs", "quantization", "decoding", "labels"}
    return ModelEntry(role=role, file=file, sha256=d["sha256"], size=int(d.get("size") or 0),
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
        return dict(self.manifest.get("thresholds") or {})

    @property
    def provenance(self) -> dict:
        return dict(self.manifest.get("provenance") or {})

    def model_bytes(self, role: str) -> bytes:
        return self.files[self.models[role].file]

    @property
    def quantization(self) -> str:
        """The models' quantization (``int8``, ``fp16`` ...), read from each
        model's entry, or ``mixed`` when they differ (the provenance's
        ``format`` is what the conversion was asked for; a model that fell
        back to another format differs from it)."""
        q = {e.quantization for e in self.models.values()}
        return q.pop() if len(q) == 1 else "mixed"

    def summary(self) -> dict:
        """A JSON-able summary for `handsdk bundle inspect`."""
        return {
            "source": self.source,
            "format_version": self.manifest["format_version"],
            "name": self.manifest.get("name"),
            "size_bytes": sum(len(b) for b in self.files.values()),
            "quantization": {"bundle": self.quantization,
                             "by_model": {r: e.quantization for r, e in self.models.items()}},
            "models": {r: {"file": e.file, "size_bytes": len(self.files[e.file]),
                           "quantization": e.quantization,
                           "inputs": {k: [list(v.shape), v.dtype] for k, v in e.inputs.items()},
                           "outputs": {k: [list(v.shape), v.dtype] for k, v in e.outputs.items()},
                           **({"labels": list(e.labels)} if e.labels else {})}
                       for r, e in self.models.items()},
            "thresholds": self.thresholds,
            "provenance": self.provenance,
        }


# ---------------------------------------------------------------- the manifest schema
#
# One schema for the whole manifest: types, ranges, required keys and nesting
# depth. Every violation is a BundleError naming the key path (for example
# ``models.detector.decoding.threshold``). Free-form parts (provenance,
# metrics, unknown keys kept for forward compatibility) are any JSON up to
# MAX_DEPTH levels deep, with NaN / infinity read as null.

MAX_DEPTH = 32
MAX_TEXT_DEPTH = 200  # checked on the raw text; the schema then names the key that nests too deeply


class _Schema:
    what = "a value"

    def check(self, v, path: str):  # returns the (normalised) value
        raise NotImplementedError


def _bad(path: str, what: str, v) -> BundleError:
    r = repr(v)
    return BundleError(f"manifest key {path}: expected {what}, got {r[:60] + '...' if len(r) > 60 else r}")


class _Num(_Schema):
    def __init__(self, lo=None, hi=None, *, integer=False, lo_open=False):
        self.lo, self.hi, self.integer, self.lo_open = lo, hi, integer, lo_open
        rng = "" if lo is None and hi is None else (
            f" in {'(' if lo_open else '['}{lo}, {hi}]" if lo is not None and hi is not None
            else f" {'>' if lo_open else '>='} {lo}" if lo is not None else f" <= {hi}")
        self.what = ("an integer" if integer else "a number") + rng

    def check(self, v, path):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (self.integer and not isinstance(v, int)):
            raise _bad(path, self.what, v)
        if isinstance(v, float) and not np.isfinite(v):
            raise _bad(path, self.what, v)
        if self.lo is not None and (v < self.lo or (self.lo_open and v == self.lo)):
            raise _bad(path, self.what, v)
        if self.hi is not None and v > self.hi:
            raise _bad(path, self.what, v)
        return v


class _Str(_Schema):
    def __init__(self, choices=None, pattern=None, max_len=4096, what=None):
        self.choices, self.pattern, self.max_len = choices, re.compile(pattern) if pattern else None, max_len
        self.what = what or (f"one of {list(choices)}" if choices else "a string")

    def check(self, v, path):
        if not isinstance(v, str) or len(v) > self.max_len:
            raise _bad(path, self.what, v)
        if self.choices is not None and v not in self.choices:
            raise _bad(path, self.what, v)
        if self.pattern is not None and not self.pattern.match(v):
            raise _bad(path, self.what, v)
        return v


class _Bool(_Schema):
    what = "true or false"

    def check(self, v, path):
        if not isinstance(v, bool):
            raise _bad(path, self.what, v)
        return v


class _Opt(_Schema):
    """null, or the inner schema."""

    def __init__(self, inner):
        self.inner = inner
        self.what = inner.what + " or null"

    def check(self, v, path):
        return None if v is None else self.inner.check(v, path)


class _List(_Schema):
    def __init__(self, item, min_len=0, max_len=100_000):
        self.item, self.min_len, self.max_len = item, min_len, max_len
        n = (f"{min_len}" if min_len == max_len else f"{min_len}..{max_len}")
        self.what = f"a list of {n} items ({item.what})"

    def check(self, v, path):
        if not isinstance(v, list) or not self.min_len <= len(v) <= self.max_len:
            raise _bad(path, self.what, v)
        return [self.item.check(x, f"{path}[{i}]") for i, x in enumerate(v)]


class _Any(_Schema):
    """Any JSON, at most MAX_DEPTH levels deep; NaN and infinity become null."""

    what = "JSON data"

    def check(self, v, path, depth=0):
        if depth > MAX_DEPTH:
            raise BundleError(f"manifest key {path}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(v, dict):
            return {k: self.check(x, f"{path}.{k}", depth + 1) for k, x in v.items()}
        if isinstance(v, list):
            return [self.check(x, f"{path}[{i}]", depth + 1) for i, x in enumerate(v)]
        if isinstance(v, float) and not np.isfinite(v):
            return None
        return v


_ANY = _Any()


class _Obj(_Schema):
    """An object with known fields (schema, required) and any other keys
    checked with ``other`` (None: rejected)."""

    def __init__(self, fields: dict, required=(), other=_ANY, keys=None, what="an object"):
        self.fields, self.required, self.other, self.keys, self.what = fields, tuple(required), other, keys, what

    def check(self, v, path):
        if not isinstance(v, dict):
            raise _bad(path, self.what, v)
        for k in self.required:
            if k not in v:
                raise BundleError(f"manifest key {path}: missing required key {k!r}")
        out = {}
        for k, x in v.items():
            p = f"{path}.{k}" if path else k
            if self.keys is not None:
                self.keys.check(k, f"{path} (key {k!r})")
            s = self.fields.get(k, self.other)
            if s is None:
                raise BundleError(f"manifest key {p}: unknown key (expected one of {sorted(self.fields)})")
            out[k] = s.check(x, p)
        return out


_UNIT = _Num(0.0, 1.0)
_TENSOR = _Obj({
    "shape": _List(_Num(1, 65536, integer=True), 1, 5),
    "dtype": _Str(_DTYPES),
    "layout": _Opt(_Str(("NHWC", "NCHW", "NWC", "NC"))),
    "color": _Opt(_Str(("RGB", "BGR", "GRAY"))),
    "normalization": _Opt(_Obj({"mean": _List(_Num(-1e6, 1e6), 1, 4),
                                "std": _List(_Num(0.0, 1e6, lo_open=True), 1, 4)})),
}, required=("shape", "dtype"), what="a tensor description (shape, dtype)")
_TENSORS = _Obj({}, other=_TENSOR, keys=_Str(pattern=r"^[A-Za-z0-9_:./-]{1,128}$", what="a tensor name"),
                what="an object of tensors")
_DECODING = {
    "detector": {"threshold": _UNIT, "min_mass": _Num(0.0, 1e9), "min_size_frac": _UNIT,
                 "pad": _Num(0.0, 4.0), "zoom_above": _UNIT, "split_aspect": _Num(0.0, 100.0),
                 "skeleton_thickness": _Num(0.0, 1.0, lo_open=True),
                 "letterbox": _Bool(), "type": _Str()},
    "landmarker": {"type": _Str(("heatmaps", "keypoints")), "crop_scale": _Num(0.1, 10.0),
                   "box_pad": _Num(0.0, 4.0), "skeleton_thickness": _Num(0.0, 1.0, lo_open=True),
                   "align": _Bool(), "heatmap_stride": _Num(1, 64, integer=True)},
    "gesture": {"kind": _Str(pattern=r"^[A-Za-z0-9_-]{1,64}$", what="a gesture-set kind (commands, spelling)"),
                "none_label": _Opt(_Str(max_len=256))},
}


def _entry_schema(role: str) -> _Obj:
    kind = "gesture" if role.startswith("gesture:") else role
    labels = _List(_Str(max_len=256), 1, 10_000) if kind == "gesture" else _List(_Str(max_len=256), 0, 10_000)
    return _Obj({
        "file": _Str(pattern=r"^[A-Za-z0-9._-]{1,255}$", what="a plain file name (no folders)"),
        "sha256": _Str(pattern=r"^[0-9a-fA-F]{64}$", what="a sha256 hex digest"),
        "size": _Num(0, MAX_FILE_BYTES, integer=True),
        "inputs": _TENSORS, "outputs": _TENSORS,
        "quantization": _Str(QUANTIZATIONS),
        "decoding": _Opt(_Obj(_DECODING[kind])),
        "labels": labels,
    }, required=("file", "sha256", "inputs", "outputs", "quantization"), what="a model description")


_ROLE = _Str(pattern=r"^(detector|landmarker|gesture:[A-Za-z0-9_-]{1,64})$",
             what="a model role (detector, landmarker, gesture:<set>)")


class _Models(_Schema):
    what = "an object of models (detector, landmarker, gesture:<set>)"

    def check(self, v, path):
        if not isinstance(v, dict):
            raise _bad(path, self.what, v)
        out = {}
        for role, d in v.items():
            if not isinstance(role, str) or not _ROLE.pattern.match(role):
                raise BundleError(f"manifest key {path}.{role}: unknown model role {role!r} "
                                  f"(expected detector, landmarker, gesture:<set>)")
            out[role] = _entry_schema(role).check(d, f"{path}.{role}")
        return out


MANIFEST_SCHEMA = _Obj({
    "format": _Str(),
    "format_version": _Num(1, 1 << 31, integer=True),
    "name": _Opt(_Str()),
    "created": _Opt(_Str()),
    "handsdk_version": _Opt(_Str()),
    "keypoints": _Opt(_Obj({"order": _List(_Str(max_len=64), 21, 21),
                            "connections": _List(_List(_Num(0, 20, integer=True), 2, 2), 0, 1000)})),
    "models": _Models(),
    "thresholds": _Opt(_Obj({}, other=_UNIT, what="an object of scores in [0, 1]")),
    "provenance": _Opt(_Obj({}, what="an object")),
}, required=("format", "format_version", "models"), what="a JSON object")


def validate_manifest(manifest) -> dict:
    """Check ``manifest`` (parsed JSON) against :data:`MANIFEST_SCHEMA`;
    return it normalised (NaN / infinity in free-form data read as null).
    Raises BundleError naming the key path of the first problem."""
    return MANIFEST_SCHEMA.check(manifest, "")


def json_depth(text: str) -> int:
    """How deeply ``text`` (JSON) nests arrays and objects, without parsing it
    (strings are skipped)."""
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    br = np.frombuffer(re.sub(r"[^\[\]{}]", "", stripped).encode("ascii"), np.uint8)
    if br.size == 0:
        return 0
    step = np.where((br == ord("[")) | (br == ord("{")), 1, -1)
    return int(np.cumsum(step).max())


def _finite_json(v):
    """``v`` with NaN / infinity replaced by None (strict JSON writes null)."""
    if isinstance(v, dict):
        return {k: _finite_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite_json(x) for x in v]
    if isinstance(v, (float, np.floating)):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def to_json(obj, **kw) -> str:
    """Strict JSON (NaN and infinity written as null, numpy scalars as
    numbers): what manifests and ``bundle inspect --json`` write."""
    return json.dumps(_finite_json(obj), allow_nan=False, **kw)


_ABS_PATH = re.compile(r"^(/[^\s/]|~/|[A-Za-z]:[\\/]|\\\\)")


def relative_path(p: str, base=None) -> str:
    """An absolute path as the manifest records it: relative to ``base`` (the
    run or working folder, default the current one) when it lies inside it,
    else the file's name alone -- never a path of the machine that built it."""
    s = str(p)
    if not _ABS_PATH.match(s):
        return s
    base = Path(os.fspath(base)) if base is not None else Path.cwd()
    pp = os.path.expanduser(s)
    if os.path.isabs(pp):  # (a Windows path read on POSIX is not: it keeps its name only)
        try:
            rel = os.path.relpath(pp, base)
            if not rel.startswith(".."):
                return Path(rel).as_posix()
        except ValueError:  # another drive on Windows
            pass
    return re.split(r"[\\/]", s.rstrip("/\\"))[-1] or "."


def sanitize_provenance(prov, base=None):
    """Provenance as written to a manifest: absolute paths made relative
    (:func:`relative_path`), NaN / infinity as null."""
    if isinstance(prov, dict):
        return {k: sanitize_provenance(v, base) for k, v in prov.items()}
    if isinstance(prov, (list, tuple)):
        return [sanitize_provenance(v, base) for v in prov]
    if isinstance(prov, os.PathLike):
        prov = os.fspath(prov)
    if isinstance(prov, str):
        return relative_path(prov, base)
    return _finite_json(prov)


def manifest_text(manifest: dict, base=None) -> str:
    """The manifest as written into a bundle: strict JSON, provenance
    without absolute paths."""
    m = dict(manifest)
    if "provenance" in m:
        m["provenance"] = sanitize_provenance(m["provenance"] or {}, base)
    return to_json(m, indent=2)


def _read_zip(data: bytes, source: str) -> tuple[dict, dict]:
    if len(data) < 22:
        raise BundleError(f"{source}: not a handsdk bundle (only {len(data)} bytes)")
    if data[:4] != b"PK\x03\x04":
        raise BundleError(f"{source}: not a handsdk bundle (not a zip archive; a bundle is a "
                          f"'{SUFFIX}' file written by `handsdk convert` or handsdk.bundle.build_bundle)")
    try:
        return _read_zip_entries(data, source)
    except BundleError:
        raise
    except RecursionError as e:
        raise BundleError(f"{source}: {MANIFEST} nests too deeply ({e})") from None
    except Exception as e:  # zipfile raises ValueError, struct.error, EOFError, ... on a damaged archive
        raise BundleError(f"{source}: truncated or corrupt bundle ({type(e).__name__}: {e}); "
                          f"copy or download it again") from e


def _read_zip_entries(data: bytes, source: str) -> tuple[dict, dict]:
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
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BundleError(f"{source}: {MANIFEST} is not valid UTF-8 text ({e})") from e
    depth = json_depth(text)  # (before parsing: deep nesting would exhaust the parser's recursion)
    if depth > MAX_TEXT_DEPTH:
        raise BundleError(f"{source}: {MANIFEST} nests {depth} levels deep (at most {MAX_DEPTH})")
    try:
        manifest = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise BundleError(f"{source}: {MANIFEST} is not valid JSON ({e})") from e
    if not isinstance(manifest, dict):
        raise BundleError(f"{source}: {MANIFEST} must be a JSON object")
    return manifest, files


def zlib_error():
    import zlib

    return zlib.error


def _check_contract(role: str, e: ModelEntry) -> None:
    """What the pipeline's stages need of each model, beyond the schema."""
    def need(cond, msg):
        if not cond:
            raise BundleError(f"manifest key models.{role}: {msg}")

    def image(name="image"):
        spec = e.inputs.get(name)
        need(spec is not None and len(spec.shape) == 4 and spec.shape[-1] == 3,
             f"needs an input {name!r} of shape [1, H, W, 3]")
        if spec.mean is None or spec.std is None:  # (pixels fed unscaled find nothing, with no error)
            raise BundleError(f"manifest key models.{role}.inputs.{name}.normalization: missing "
                              f"{'mean and std' if spec.mean is None and spec.std is None else 'mean' if spec.mean is None else 'std'}"
                              f" (the model's input is (pixel - mean) / std per channel, e.g. mean "
                              f"[0, 0, 0] and std [255, 255, 255] for inputs in [0, 1]; "
                              f"handsdk.build_bundle writes them)")
        for k in ("mean", "std"):
            v = getattr(spec, k)
            need(v is None or len(v) in (1, 3), f"inputs.{name}.normalization.{k}: 1 or 3 values")
        return spec

    if role == "detector":
        image()
        need(set(e.inputs) == {"image"}, f"takes only an 'image' input (has {sorted(e.inputs)})")
        sk = e.outputs.get("skeleton")
        need(sk is not None and len(sk.shape) == 4, "needs an output 'skeleton' of shape [1, H, W, 1]")
    elif role == "landmarker":
        spec = image()
        need(spec.shape[1] == spec.shape[2], f"inputs.image must be square (got {list(spec.shape)})")
        need(set(e.inputs) <= {"image", "skeleton"}, f"takes 'image' and optionally 'skeleton' "
                                                   f"(has {sorted(e.inputs)})")
        if "skeleton" in e.inputs:
            need(tuple(e.inputs["skeleton"].shape) == tuple(spec.shape[:3]) + (1,),
                 "inputs.skeleton must be [1, H, W, 1] like the image")
        kind = e.decoding.get("type", "keypoints" if "keypoints" in e.outputs else "heatmaps")
        out = e.outputs.get(kind)
        need(out is not None, f"decoding type {kind!r} needs an output {kind!r}")
        if kind == "heatmaps":
            need(len(out.shape) == 4 and out.shape[-1] == 21, "outputs.heatmaps must be [1, H, W, 21]")
        else:
            need(int(np.prod(out.shape)) == 42, "outputs.keypoints must hold 21 x 2 values")
        if "depth" in e.outputs:
            need(int(np.prod(e.outputs["depth"].shape)) == 21, "outputs.depth must hold 21 values")
        if "rotation" in e.outputs:
            need(int(np.prod(e.outputs["rotation"].shape)) == 2,
                 "outputs.rotation must hold 2 values (cos, sin of the hand's angle in the crop)")
    elif e.decoding.get("kind") == "motion" or e.decoding.get("input") == "keypoint_history":
        from .motion import check_motion_entry  # a motion set reads a keypoint history, not one hand

        check_motion_entry(e, need)
    else:
        need(len(e.inputs) == 1 and tuple(next(iter(e.inputs.values())).shape) == (1, 21, 2),
             "a gesture model takes one input of shape [1, 21, 2] (the keypoint features)")
        need(len(e.outputs) == 1, f"a gesture model has one output (has {sorted(e.outputs)})")
        out = next(iter(e.outputs.values()))
        need(out.shape[-1] == len(e.labels) and int(np.prod(out.shape)) == len(e.labels),
             f"the model has {out.shape[-1]} outputs but {len(e.labels)} labels")
        need(len(set(e.labels)) == len(e.labels), "duplicate labels")
        none = e.decoding.get("none_label")
        if none is not None and none not in e.labels:
            raise BundleError(f"manifest key models.{role}.decoding.none_label: {none!r} is not one of the "
                              f"set's labels {list(e.labels)[:8]}{' ...' if len(e.labels) > 8 else ''} (name the "
                              f"label that means 'no gesture', or null when the set has none)")


#: the thresholds a bundle must name: the landmarker presence a hand needs decides
#: how many hands are reported (a bundle calibrated at 0.97 run at 0.5 takes faces for
#: hands), so no default stands in for it
REQUIRED_THRESHOLDS = ("min_presence_score",)


def _check_thresholds(manifest: dict) -> None:
    th = manifest.get("thresholds")
    if th is None:
        raise BundleError("manifest key thresholds: missing (it needs at least "
                          f"{', '.join(REQUIRED_THRESHOLDS)}; defaults of the others: "
                          f"{', '.join(f'{k} {v}' for k, v in THRESHOLD_DEFAULTS.items())}; "
                          f"handsdk.build_bundle writes them)")
    for k in REQUIRED_THRESHOLDS:
        if k not in th:
            raise BundleError(f"manifest key thresholds.{k}: missing (the landmarker presence score a new "
                              f"hand needs, the value the bundle's models were calibrated with, e.g. 0.97 "
                              f"for the shipped bundle)")


def parse_manifest(manifest: dict, files: Mapping[str, bytes], source: str = "<bytes>") -> Bundle:
    if not isinstance(manifest, dict):
        raise BundleError(f"{source}: {MANIFEST} must be a JSON object")
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{source}: manifest 'format' is {manifest.get('format')!r}, expected {FORMAT!r}")
    ver = manifest.get("format_version")
    if not isinstance(ver, int) or isinstance(ver, bool) or ver < 1:
        raise BundleError(f"{source}: manifest has no valid 'format_version' (a positive integer)")
    if ver > FORMAT_VERSION:
        raise BundleError(f"{source}: bundle format version {ver} is newer than this handsdk understands "
                          f"({FORMAT_VERSION}); upgrade handsdk")
    try:
        manifest = validate_manifest(manifest)
    except BundleError as e:
        raise BundleError(f"{source}: {e}") from None
    try:
        _check_thresholds(manifest)
    except BundleError as e:
        raise BundleError(f"{source}: {e}") from None
    kp = manifest.get("keypoints") or {}
    if list(kp.get("order") or KEYPOINT_NAMES) != list(KEYPOINT_NAMES):
        raise BundleError(f"{source}: the bundle's keypoint order is not MediaPipe's 21-point order")
    raw_models = manifest["models"]
    models = {}
    for role in ROLES:
        if role not in raw_models:
            raise BundleError(f"{source}: missing model {role!r} in the manifest")
    for role, d in raw_models.items():
        e = _parse_entry(role, d)
        try:
            _check_contract(role, e)
        except BundleError as err:
            raise BundleError(f"{source}: {err}") from None
        if e.file not in files:
            raise BundleError(f"{source}: model file {e.file!r} ({role}) is missing from the archive")
        b = files[e.file]
        if _sha256(b) != e.sha256.lower():
            raise BundleError(f"{source}: model file {e.file!r} ({role}) is corrupt: its sha256 does not "
                              f"match the manifest")
        models[role] = e
    if not any(r.startswith("gesture:") for r in models):
        raise BundleError(f"{source}: the bundle has no gesture model")
    used = {e.file for e in models.values()}
    return Bundle(manifest=manifest, models=models, files={k: v for k, v in files.items() if k in used},
                  source=source)


def check_models(bundle: Bundle, backend: str = "auto") -> None:
    """Build every model's interpreter once, run it on one zero input, and
    check that its tensors match the manifest (names, shapes, dtypes). A model
    the interpreter cannot load or run is a BundleError, never a traceback later."""
    from .backends import BackendError, open_model

    for role, e in bundle.models.items():
        try:
            m = open_model(bundle.files[e.file], backend=backend, num_threads=1, name=f"{role} ({e.file})")
        except BackendError as err:
            raise BundleError(f"{bundle.source}: {err}") from err
        except Exception as err:  # an interpreter that crashes on this file instead of saying so
            raise BundleError(f"{bundle.source}: model {role!r} ({e.file}) could not be loaded "
                              f"({type(err).__name__}: {err}); the file is corrupt") from err
        for kind, want, got in (("input", e.inputs, m.inputs), ("output", e.outputs, m.outputs)):
            if set(want) != set(got):
                raise BundleError(f"{bundle.source}: model {role!r}: the manifest lists {kind}s {sorted(want)} "
                                  f"but the model has {sorted(got)}")
            for k, spec in want.items():
                if tuple(spec.shape) != tuple(got[k].shape) or np.dtype(spec.dtype) != got[k].dtype:
                    raise BundleError(
                        f"{bundle.source}: model {role!r} {kind} {k!r} is {got[k].shape} {got[k].dtype} "
                        f"but the manifest says {tuple(spec.shape)} {spec.dtype}")
        if getattr(m, "backend", "") == "tensorrt":
            continue  # an engine runs only on its Jetson; inspecting the bundle elsewhere must still work
        try:
            out = m(**{k: np.zeros(spec.shape, np.float32) for k, spec in e.inputs.items()})
            bad = [k for k, v in out.items() if not np.all(np.isfinite(v))]
        except Exception as err:
            raise BundleError(f"{bundle.source}: model {role!r} ({e.file}) fails to run "
                              f"({type(err).__name__}: {err}); the file is corrupt or was built for "
                              f"another interpreter") from err
        if bad:
            raise BundleError(f"{bundle.source}: model {role!r} ({e.file}) outputs NaN or infinity "
                              f"({', '.join(bad)}) on a blank input; the file is corrupt")


def load_bundle(source, *, check: bool = True, backend: str = "auto") -> Bundle:
    """Load and validate a bundle from a path or bytes. With ``check`` every
    model is also loaded by the interpreter, run once, and its tensors
    compared with the manifest. Any problem with the file is a
    :class:`BundleError` naming it (a missing file: FileNotFoundError)."""
    if isinstance(source, Bundle):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), "<bytes>"
    elif isinstance(source, (str, os.PathLike)):
        p = Path(os.fspath(source))
        name = str(p)
        if not p.exists():
            raise FileNotFoundError(f"bundle not found: {p}")
        if p.is_dir():
            raise BundleError(f"{p} is a folder, not a bundle file")
        try:
            size = p.stat().st_size
            if size > MAX_TOTAL_BYTES + MAX_MANIFEST_BYTES:
                raise BundleError(f"{p}: absurdly large for a bundle ({size} bytes)")
            data = p.read_bytes()
        except OSError as e:
            raise BundleError(f"{p}: cannot read the bundle ({e.strerror or e})") from e
    else:
        raise TypeError(f"a bundle is a path (str or pathlib.Path), bytes or a loaded Bundle; "
                        f"got {type(source).__name__}")
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
    from .backends import open_model

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
    from .backends import model_suffix  # the one test of a model's kind (open_model dispatches on it)

    return model_suffix(content)


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
    #: the label that means "no gesture" (below the set's score gate it is reported first);
    #: the default "none" is written only when the labels have it, any other name must be one
    none_label: str | None = "none"
    quantization: str = "fp32"
    metrics: dict = field(default_factory=dict)
    #: more of the set's manifest ``decoding`` (a motion set: ``{"input": "keypoint_history", ...}``)
    decoding: dict = field(default_factory=dict)

    @classmethod
    def from_decoding(cls, model, labels, decoding: dict | None, **kw) -> "GestureSet":
        """The set of a manifest entry's (or a training run's) ``decoding``:
        its kind, none label and everything else it holds (a motion set's
        input, history and gate), so a bundle rebuilt from it keeps them."""
        d = dict(decoding or {})
        return cls(model, tuple(labels), kind=d.pop("kind", "commands"), none_label=d.pop("none_label", None),
                   decoding=d, **kw)


def _none_label(none_label, labels, set_name: str):
    """The ``none_label`` a manifest records for a set with ``labels``: the
    default ``"none"`` only when the set has that label (else null); any other
    name must be one of the labels."""
    if none_label is None or none_label in tuple(labels):
        return none_label
    if none_label == "none":
        return None
    raise ValueError(f"gesture set {set_name!r}: none_label {none_label!r} is not one of its labels "
                     f"{list(labels)[:8]} (name the label that means 'no gesture', or None)")


#: what a gesture set name may hold (it names the role ``gesture:<name>`` and the file)
GESTURE_SET_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def check_gesture_set_name(set_name: str) -> str:
    """``set_name`` when it is a valid gesture set name, else ValueError."""
    if not GESTURE_SET_NAME.match(str(set_name)):
        raise ValueError(f"gesture set name {set_name!r}: letters, digits, '_' and '-' only")
    return set_name


def _bundle_zip(manifest: dict, files: Mapping[str, bytes], provenance_base=None) -> bytes:
    """The bundle archive: the manifest (strict JSON, no absolute paths) then
    ``files`` in their order, stored uncompressed."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(MANIFEST, manifest_text(manifest, provenance_base))
        for k, b in files.items():
            zf.writestr(k, b)
    return buf.getvalue()


def build_bundle(output=None, *, detector, landmarker, gestures: Mapping[str, GestureSet],
                 detector_decoding: dict | None = None, landmarker_decoding: dict | None = None,
                 quantization: str | Mapping[str, str] = "fp32", thresholds: dict | None = None,
                 provenance: dict | None = None, name: str = "handsdk", color: str = "RGB",
                 mean=(0.0, 0.0, 0.0), std=(255.0, 255.0, 255.0), provenance_base=None) -> bytes:
    """Build a bundle from three (or more) ``.tflite`` files (paths or bytes)
    plus metadata. Writes it to ``output`` when given; returns its bytes.

    The tensor specs are read from the models themselves; the result is loaded
    back and checked before it is returned. The manifest is strict JSON (NaN
    written as null); absolute paths in ``provenance`` are recorded relative
    to ``provenance_base`` (default: the working folder), or as the bare
    file name when outside it.
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
        check_gesture_set_name(set_name)
        b = _read(g.model)
        fname = f"gesture_{set_name}{_suffix(b)}"
        files[fname] = b
        entry = _model_json(b, fname, g.quantization,
                            {"kind": g.kind, "none_label": _none_label(g.none_label, g.labels, set_name)},
                            labels=g.labels, image_inputs=())
        if g.metrics:
            entry["metrics"] = g.metrics
        if g.decoding:
            entry["decoding"].update(g.decoding)
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
    data = _bundle_zip(manifest, files, provenance_base)
    load_bundle(data)  # never write a bundle that would not load
    if output is not None:
        Path(os.fspath(output)).write_bytes(data)
    return data


def add_gesture_set(base, set_name: str, model, labels, *, output=None, kind: str = "commands",
                    none_label: str | None = "none", quantization: str = "fp32", metrics: dict | None = None,
                    provenance: dict | None = None, name: str | None = None,
                    decoding: dict | None = None) -> bytes:
    """A copy of the bundle ``base`` (a :class:`Bundle`, or a path / bytes
    of one) with the gesture set ``set_name`` added, or replaced when the
    base has it: ``model`` (bytes or path of the classifier over
    :func:`handsdk.keypoint_features`) with its ``labels``. The detector,
    landmarker and other sets keep their files and manifest entries
    unchanged. ``decoding`` adds to the set's manifest ``decoding`` (a
    motion set, :mod:`handsdk.motion`: ``kind="motion"`` and
    ``{"input": "keypoint_history", "feature": "motion_features", "frames":
    32, "rate_hz": 20, ...}``). ``provenance`` is merged into the manifest's (dict values key
    by key); each model's quantization is recorded, the bundle's format
    becoming ``mixed`` when they differ. Returns the bytes (written to
    ``output`` when given); the result is loaded and checked first."""
    import copy

    from . import __version__

    check_gesture_set_name(set_name)
    labels = tuple(labels)
    if not isinstance(base, Bundle):
        base = load_bundle(base, check=False)
    model = _read(model)
    manifest = copy.deepcopy(base.manifest)
    models = manifest["models"]
    role = f"gesture:{set_name}"
    files = {k: v for k, v in base.files.items()}
    if role in models:
        files.pop(models[role]["file"], None)
        del models[role]
    fname = f"gesture_{set_name}.tflite"
    used = {m["file"] for m in models.values()}
    k = 1
    while fname in used:
        fname = f"gesture_{set_name}_{k}.tflite"
        k += 1
    entry = _model_json(model, fname, quantization,
                        {"kind": kind, "none_label": _none_label(none_label, labels, set_name),
                         "feature": "keypoint_features",
                         "canonical_hand": "Right"}, labels=tuple(labels), image_inputs=())
    if metrics:
        entry["metrics"] = metrics
    if decoding:
        entry["decoding"].update(decoding)
    if entry["decoding"].get("kind") == "motion":
        entry["decoding"].pop("canonical_hand", None)  # (no hand is canonicalised: directions are kept)
    models[role] = entry
    files[fname] = model
    manifest["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    manifest["handsdk_version"] = __version__
    if name:
        manifest["name"] = name
    prov = dict(manifest.get("provenance") or {})
    for key, val in (provenance or {}).items():
        if isinstance(val, dict) and isinstance(prov.get(key), dict):
            prov[key] = {**prov[key], **val}
        else:
            prov[key] = val
    # the format the base recorded ("int8" ...) no longer describes every model when
    # the new head is quantised differently: record each model's, and "mixed"
    q = {r: m.get("quantization") for r, m in models.items()}
    prov["quantization_by_model"] = q
    if "format" in prov or len(set(q.values())) > 1:
        prov["format"] = next(iter(q.values())) if len(set(q.values())) == 1 else "mixed"
    manifest["provenance"] = prov
    data = _bundle_zip(manifest, {fn: files[fn] for fn in sorted({m["file"] for m in models.values()})})
    all_tflite = all(m["file"].endswith(".tflite") for m in models.values())
    load_bundle(data, check=all_tflite)  # never write a bundle that would not load
    if not all_tflite:  # (ONNX / TensorRT bases: check the new model alone)
        from .backends import open_model

        open_model(model, num_threads=1, name=role)
    if output is not None:
        Path(os.fspath(output)).write_bytes(data)
    return data


#: what :func:`build_bundle` writes for the thresholds it is not given
DEFAULT_THRESHOLDS = {
    "min_detection_score": 0.5,
    "min_presence_score": 0.5,
    "min_gesture_score": 0.5,
}

#: the values the runtime uses for optional thresholds a manifest leaves out
#: (``min_presence_score`` is required: :data:`REQUIRED_THRESHOLDS`);
#: ``min_tracking_presence`` left out is ``min_presence_score``, and
#: ``min_gesture_score:<set>`` left out is ``min_gesture_score``
THRESHOLD_DEFAULTS = {
    "min_detection_score": 0.5,
    "min_gesture_score": 0.5,
}


def default_bundle_path() -> Path | None:
    """The bundle that ships with the package, if this install has one."""
    p = Path(__file__).parent / "models" / f"default{SUFFIX}"
    return p if p.exists() else None
