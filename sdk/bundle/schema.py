"""The manifest's checks: one schema for the whole manifest
(:data:`MANIFEST_SCHEMA`, :func:`validate_manifest`), what each pipeline
stage needs of its model beyond it (:func:`check_contract`) and the
thresholds a bundle must name (:func:`check_thresholds`)."""
from __future__ import annotations

import re

import numpy as np

from ..decode import check_split_aspect
from .model import (DTYPES, MAX_FILE_BYTES, QUANTIZATIONS, REQUIRED_THRESHOLDS, THRESHOLD_DEFAULTS, BundleError,
                    ModelEntry)

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


class _Checked(_Schema):
    """A value the runtime checks itself: ``check(v, name)`` (e.g.
    :func:`handsdk.decode.check_split_aspect`) raises ValueError, whose message
    (the values it takes, the value it got) is said under the key path, so
    that the manifest accepts what the runtime does, by the same rule."""

    def __init__(self, check, what: str):
        self.fn, self.what = check, what

    def check(self, v, path):
        try:
            self.fn(v, path.rsplit(".", 1)[-1])
        except ValueError as e:
            raise BundleError(f"manifest key {path}: {e}") from None
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
    "dtype": _Str(DTYPES),
    "layout": _Opt(_Str(("NHWC", "NCHW", "NWC", "NC"))),
    "color": _Opt(_Str(("RGB", "BGR", "GRAY"))),
    "normalization": _Opt(_Obj({"mean": _List(_Num(-1e6, 1e6), 1, 4),
                                "std": _List(_Num(0.0, 1e6, lo_open=True), 1, 4)})),
}, required=("shape", "dtype"), what="a tensor description (shape, dtype)")
_TENSORS = _Obj({}, other=_TENSOR, keys=_Str(pattern=r"^[A-Za-z0-9_:./-]{1,128}$", what="a tensor name"),
                what="an object of tensors")
_DECODING = {
    "detector": {"threshold": _UNIT, "min_mass": _Num(0.0, 1e9), "min_size_frac": _UNIT,
                 "pad": _Num(0.0, 4.0), "zoom_above": _UNIT,
                 "split_aspect": _Checked(check_split_aspect, "0 (off) or a width / height ratio"),
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


def check_contract(role: str, e: ModelEntry) -> None:
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
        from ..motion import check_motion_entry  # a motion set reads a keypoint history, not one hand

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


def check_thresholds(manifest: dict) -> None:
    """The thresholds a manifest must name (:data:`~handsdk.bundle.model.REQUIRED_THRESHOLDS`) are there."""
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
