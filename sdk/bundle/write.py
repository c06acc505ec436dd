"""Writing bundles: strict manifest JSON (no NaN, no absolute paths),
the model entries read from the models themselves, :func:`build_bundle`
(a whole bundle) and :func:`add_gesture_set` (one set added to a bundle)."""
from __future__ import annotations

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

from ..keypoints import HAND_CONNECTIONS, KEYPOINT_NAMES
from .model import DEFAULT_THRESHOLDS, FORMAT, FORMAT_VERSION, MANIFEST, Bundle, ModelEntry, TensorSpec, sha256_hex
from .read import load_bundle

# ---------------------------------------------------------------- strict manifest JSON


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


# ---------------------------------------------------------------- building


def describe_tflite(content: bytes, *, image_inputs=("image",), color="RGB",
                    mean=(0.0, 0.0, 0.0), std=(255.0, 255.0, 255.0)) -> tuple[dict, dict]:
    """Input/output specs of a TFLite model as the manifest records them,
    read from the model itself. Inputs named in ``image_inputs`` get the colour
    order and normalisation; the ``skeleton`` input is a [0, 1] map."""
    from ..backends import open_model

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
    e = ModelEntry(role="", file=file, sha256=sha256_hex(content), size=len(content), inputs=ins, outputs=outs,
                   quantization=quantization, decoding=dict(decoding or {}), labels=tuple(labels or ()))
    return e.to_json()


def _suffix(content: bytes) -> str:
    from ..backends import model_suffix  # the one test of a model's kind (open_model dispatches on it)

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
    from .. import __version__

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

    from .. import __version__

    check_gesture_set_name(set_name)
    labels = tuple(labels)
    if not isinstance(base, Bundle):
        base = load_bundle(base, check=False)
    model = _read(model)
    manifest = copy.deepcopy(base.manifest)
    models = manifest["models"]
    role = f"gesture:{set_name}"
    files = {k: v for k, v in base.files.items()}
    replaced = role in models
    if replaced:
        files.pop(models[role]["file"], None)
        models[role] = None  # (a replaced set keeps its place among the sets)
    fname = f"gesture_{set_name}.tflite"
    used = {m["file"] for m in models.values() if m is not None}
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
        from ..backends import open_model

        open_model(model, num_threads=1, name=role)
    if output is not None:
        Path(os.fspath(output)).write_bytes(data)
    return data
