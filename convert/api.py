"""Turn trained Keras models into a deployable bundle for a device, and say
with numbers what each format loses and gains.

Every converted model is reloaded in the runtime's interpreter and run; its
parity with the Keras model is measured on validation inputs (real crops where
the shared data exists, synthetic renders otherwise) and written into the
bundle's manifest. A model that loses more than the tolerance is reported
loudly (and ``strict`` makes it an error).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from handsdk.boxes import box_iou
from handsdk.keypoints import angle_error_deg, rotation_from_output

from .formats import get_format

#: default parity tolerances
TOLERANCE = {"detector_iou": 0.85, "keypoint_error_px": 1.5, "gesture_agreement": 0.97, "rotation_error_deg": 8.0}


class ConversionError(RuntimeError):
    pass


@dataclass
class Trained:
    """A trained Keras model with the metadata its training run wrote."""

    role: str            # detector | landmarker | gesture:<set>
    model: object
    metadata: dict
    path: str
    #: the score thresholds the model was calibrated with (``thresholds.json``
    #: beside it, or its metadata's ``thresholds``), by the keys of
    #: :data:`THRESHOLD_KEYS` for its role
    thresholds: dict = field(default_factory=dict)

    @property
    def label_set(self) -> str | None:
        return self.role.split(":", 1)[1] if self.role.startswith("gesture:") else None


def _custom_objects() -> dict:
    try:
        from handsdk.train.models import layers

        return {k: v for k, v in vars(layers).items() if isinstance(v, type)}
    except Exception:  # pragma: no cover
        return {}


def _find_metadata(p: Path) -> Path | None:
    for cand in (p / "metadata.json" if p.is_dir() else None, p.with_suffix(".json"),
                 p.parent / f"{p.stem}.metadata.json", p.parent / "metadata.json"):
        if cand is not None and cand.is_file():
            return cand
    return None


#: the manifest thresholds each model's folder may carry (``thresholds.json``); a
#: gesture model's ``min_gesture_score`` is its set's gate, ``min_gesture_score:<set>``
THRESHOLD_KEYS = {"detector": ("min_detection_score",),
                  "landmarker": ("min_presence_score", "min_tracking_presence"),
                  "gesture": ("min_gesture_score",)}
THRESHOLDS_FILE = "thresholds.json"


def _role_kind(role: str) -> str:
    return role if role in ("detector", "landmarker") else "gesture"


def split_thresholds(thresholds: dict, role: str) -> dict:
    """The part of a bundle's ``thresholds`` that belongs to the model of
    ``role`` (what its ``thresholds.json`` holds): e.g. the landmarker's
    presence thresholds, ``gesture:commands``'s ``min_gesture_score:commands``
    as ``min_gesture_score``."""
    if role.startswith("gesture:"):
        key = f"min_gesture_score:{role.split(':', 1)[1]}"
        return {"min_gesture_score": float(thresholds[key])} if key in thresholds else {}
    return {k: float(thresholds[k]) for k in THRESHOLD_KEYS.get(role, ()) if k in thresholds}


def _manifest_keys(t: "Trained") -> list:
    return [f"{k}:{t.label_set}" if t.label_set else k for k in THRESHOLD_KEYS[_role_kind(t.role)]]


def _defaults_text(t: "Trained") -> str:
    from handsdk.bundle import DEFAULT_THRESHOLDS

    keys = THRESHOLD_KEYS[_role_kind(t.role)]
    return ", ".join(f"{k} {DEFAULT_THRESHOLDS[k]}" if k in DEFAULT_THRESHOLDS else f"no {k}" for k in keys)


def bundle_thresholds(trained: list) -> dict:
    """The manifest thresholds the models of ``trained`` carry (gesture gates
    as ``min_gesture_score:<set>``)."""
    out = {}
    for t in trained:
        for k, v in t.thresholds.items():
            out[f"{k}:{t.label_set}" if t.label_set and k == "min_gesture_score" else k] = float(v)
    return out


def _read_thresholds(p: Path, meta: dict, role: str) -> dict:
    """A model's thresholds: ``thresholds.json`` in its folder (or beside the
    .keras file), else its metadata's ``thresholds``; checked against the keys
    of its role."""
    folder = p if p.is_dir() else p.parent
    f = folder / THRESHOLDS_FILE
    where = str(f)
    if f.is_file():
        try:
            th = json.loads(f.read_text())
        except ValueError as e:
            raise ConversionError(f"{f}: not valid JSON ({e})") from e
    else:
        th, where = meta.get("thresholds") or {}, f"the thresholds in {folder / 'metadata.json'}"
    if not isinstance(th, dict):
        raise ConversionError(f"{where}: must be an object of scores, got {type(th).__name__}")
    allowed = THRESHOLD_KEYS.get(_role_kind(role), ())
    for k, v in th.items():
        if k not in allowed:
            raise ConversionError(f"{where}: {k!r} is not a threshold of a {_role_kind(role)} "
                                  f"(its keys: {', '.join(allowed)})")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
            raise ConversionError(f"{where}: {k} must be a score in [0, 1], got {v!r}")
    return {k: float(v) for k, v in th.items()}


def load_trained(path, role: str | None = None) -> Trained:
    """Load ``best.keras`` (or a .keras/.h5 file, or a run folder holding one)
    and its ``metadata.json``."""
    from handsdk.train.tf import keras

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"trained model not found: {p}")
    model_file = p
    if p.is_dir():
        for name in ("best.keras", "model.keras", "best.h5", "saved_model.pb"):
            if (p / name).exists():
                model_file = p / name if name != "saved_model.pb" else p
                break
        else:
            raise FileNotFoundError(f"no best.keras / model.keras in {p}")
    meta_path = _find_metadata(p)
    meta = json.loads(meta_path.read_text()) if meta_path else {}
    try:
        model = keras.models.load_model(str(model_file), custom_objects=_custom_objects(), compile=False)
    except Exception as e:
        raise ConversionError(f"cannot load the Keras model {model_file}: {e}") from e
    role = role or meta.get("role")
    if role is None:
        names = set(model.output_names)
        role = ("detector" if names == {"skeleton"} else "landmarker" if "heatmaps" in names or "keypoints" in names
                else "gesture:gestures")
    return Trained(role=role, model=model, metadata=meta, path=str(model_file),
                   thresholds=_read_thresholds(p, meta, role))


# ----------------------------------------------------------- calibration data

def _input_shapes(model) -> dict:
    names = [t.name.split(":")[0].split("/")[0] for t in model.inputs]
    return {n: tuple(int(v) for v in t.shape[1:]) for n, t in zip(names, model.inputs)}


def representative_inputs(trained: Trained, n: int = 64, *, data: str = "auto", data_root=None,
                          seed: int = 0) -> list[dict]:
    """Batch-1 float32 inputs for calibration and parity, made the way the
    runtime makes them (letterboxed frames for the detector, runtime-style
    hand crops + skeleton for the landmarker, shared features for GestureNet).

    ``data``: ``auto`` (real shared data when present, mixed with synthetic
    renders), ``synthetic``, or a shared dataset name."""
    from handsdk.image import crop_matrix, letterbox_matrix, warp
    from handsdk.keypoints import keypoint_features, keypoints_box, render_skeleton

    shapes = _input_shapes(trained.model)
    if "history" in shapes:  # a motion set (it reads a keypoint history, :mod:`handsdk.motion`)
        return motion_windows(trained, n, seed=seed)
    samples = list(_samples(trained, n, data=data, data_root=data_root, seed=seed))
    if not samples:
        raise ConversionError("no calibration samples could be made (no data and no synthetic renderer)")
    out = []
    rng = np.random.default_rng(seed)
    for s in samples:
        if trained.role == "detector":
            h, w, _ = shapes["image"]
            m = letterbox_matrix(s.image.shape[:2], (h, w))
            out.append({"image": (warp(s.image, m, (h, w)).astype(np.float32) / 255.0)[None]})
        elif trained.role == "landmarker":
            size = shapes["image"][0]
            if not len(s.keypoints):
                continue
            kp = s.keypoints[0]
            m = crop_matrix(keypoints_box(kp[:, :2]), size, scale=float(rng.uniform(1.3, 1.5)))
            d = {"image": (warp(s.image, m, (size, size)).astype(np.float32) / 255.0)[None]}
            if "skeleton" in shapes:
                from handsdk.image import apply_affine

                skel = render_skeleton(apply_affine(m, kp[:, :2]), (size, size),
                                       thickness=float(trained.metadata.get("decoding", {})
                                                       .get("skeleton_thickness", 0.02)))
                d["skeleton"] = skel[None, :, :, None]
            out.append(d)
        else:
            if not len(s.keypoints):
                continue
            hd = s.handedness[0] if s.handedness else None
            out.append({"keypoints": keypoint_features(s.keypoints[0], hd)[None]})
    if not out:
        raise ConversionError("the calibration samples had no usable hands")
    return out[:n]


def motion_windows(trained: Trained, n: int, *, seed: int = 0) -> list[dict]:
    """``n`` keypoint-history windows for a motion set's calibration and
    parity, made as its training makes them: synthetic takes of each of its
    gestures and of meaningless movement (:mod:`handsdk.train.synth.motion`,
    every path generator), read by :func:`handsdk.motion.motion_features`
    with the set's own frames and rate."""
    from handsdk.motion import motion_features

    try:
        from handsdk.train.synth import motion as SM
    except ImportError as e:
        raise ConversionError(f"{trained.role}: calibrating a motion set needs the training extras "
                              f"(pip install 'handsdk[train]'): {e}") from None
    dec = trained.metadata.get("decoding") or {}
    labels = list(trained.metadata.get("labels") or [])
    none = dec.get("none_label", "none")
    shape = _input_shapes(trained.model)["history"]
    frames, rate = int(dec.get("frames", shape[0])), float(dec.get("rate_hz", SM.DEFAULT_RATE_HZ))
    kw = {"points": tuple(dec["points"])} if dec.get("points") else {}
    gestures = [x for x in labels if x != none and x in SM.MOTION_LABELS] or list(SM.MOTION_LABELS[1:])
    rng = np.random.default_rng(seed)
    out, i = [], 0
    while len(out) < n:
        g = SM.GENERATORS[i % len(SM.GENERATORS)]
        take = SM.none_take(g, rng) if i % (len(gestures) + 1) == len(gestures) else \
            SM.gesture_take(gestures[i % (len(gestures) + 1)], g, rng)
        i += 1
        for e in SM.evaluation_ends(take, rng, 1, 1):
            if e <= take.times_ms[1]:
                continue
            f = motion_features(take.times_ms, take.keypoints, frames=frames, rate_hz=rate, end_ms=e, **kw)
            if tuple(f.shape) != tuple(shape):
                raise ConversionError(f"{trained.role}: its input is {shape}, but its decoding's history makes "
                                      f"{tuple(f.shape)} (frames {frames}, points {dec.get('points')}): its "
                                      f"metadata.json does not describe this model")
            out.append({"history": f.astype(np.float32)[None]})
    return out[:n]


def _real_samples(trained: Trained, n: int, names: list, data_root) -> list:
    from handsdk.train.data.catalog import has_data
    from handsdk.train.data.formats import ensure_image
    from handsdk.train.data.registry import load_dataset

    keypoint_only_ok = trained.role.startswith("gesture:")
    out = []
    per_set = max(1, n // max(1, len(names)))
    for name in names:
        if not has_data(data_root, name):
            continue
        got = 0
        split = "valid" if name == "asl_letters" else None
        for s in load_dataset(name, root=data_root, split=split):
            if not len(s.keypoints) or (s.image is None and not s.path and not keypoint_only_ok):
                continue
            if not keypoint_only_ok:
                s = ensure_image(s)
            out.append(s)
            got += 1
            if got >= per_set:
                break
    return out


def _samples(trained: Trained, n: int, *, data: str, data_root, seed: int):
    """Samples for calibration: real (when present) and synthetic, half each
    with ``auto``."""
    real = []
    if data != "synthetic":
        if data == "auto":
            names = (["gesture_keypoints_csv"] if trained.role.startswith("gesture:") else []) + \
                ["asl_letters", "sign_language_digits"]
        else:
            names = [data]
        try:
            real = _real_samples(trained, n // 2 if data == "auto" else n, names, data_root)
        except Exception as e:
            if data != "auto":
                raise ConversionError(f"cannot read calibration data {data!r}: {e}") from e
    yield from real
    if data in ("auto", "synthetic"):
        yield from _synthetic(trained, n - len(real), seed)


def _synthetic(trained: Trained, n: int, seed: int):
    try:
        from handsdk.train import synth
    except Exception:
        return
    rng = np.random.default_rng(seed)
    if trained.role == "detector":
        shape = _input_shapes(trained.model)["image"]
        cfg = synth.SceneConfig(size=(shape[0] * 2, shape[1] * 2))
    else:
        cfg = synth.SceneConfig(size=(192, 192), max_hands=1, p_no_hand=0.0)
    for _ in range(n):
        yield synth.render_scene(rng, cfg)


# ----------------------------------------------------------------- conversion

def convert_model(trained: Trained, fmt: str, calibration: list[dict] | None = None, *,
                  qat_steps: int = 200, progress: Callable[[str], None] = print) -> tuple[bytes, dict]:
    """Convert one model with the converter of ``fmt``'s row in the formats
    table. Returns (bytes, info) where info lists e.g. the layers QAT left in
    float."""
    from handsdk.backends import model_suffix

    f = get_format(fmt)
    why = f.unavailable()
    if why:
        raise ConversionError(why)
    if f.needs_calibration and not calibration:
        raise ConversionError(f"{fmt} needs calibration inputs")
    convert = f.resolve()
    try:
        data, info = convert(trained, f, calibration, qat_steps=qat_steps, progress=progress)
    except ImportError:
        raise
    except Exception as e:
        raise ConversionError(f"{trained.role}: conversion to {fmt} failed: {e}") from e
    if model_suffix(data) != f.suffix:
        raise ConversionError(f"{trained.role}: the {fmt} converter made a {model_suffix(data)} model, "
                              f"the formats table says {f.suffix}")
    return data, info


def _calibration_progress(samples: list, role: str, progress: Callable[[str], None]):
    """The calibration samples, reporting a progress bar at each quarter (the
    converter runs the float model over every sample: the slow part of int8)."""
    n = len(samples)
    marks = {max(1, round(n * k / 4)) for k in range(1, 5)}
    t0 = time.perf_counter()
    for i, x in enumerate(samples, 1):
        yield x
        if i in marks:
            bar = "#" * round(20 * i / n)
            progress(f"    {role}: calibrating [{bar:<20}] {i}/{n} samples ({time.perf_counter() - t0:.0f}s)")


def _decode_detector(out: np.ndarray, dec: dict):
    from handsdk.decode import DetectorDecoding, skeleton_to_boxes

    return skeleton_to_boxes(out[0], **DetectorDecoding.from_dict(dec).as_dict())


def _keypoints_from(outputs: dict, size: int) -> np.ndarray:
    from handsdk.decode import landmarker_keypoints  # the runtime's decoding

    return landmarker_keypoints(outputs, size)


#: what the child process of :func:`runs_in_child` runs: open the model in the
#: runtime's interpreter (its default delegates, XNNPACK on CPU) and invoke it
_CHILD = """
import sys, numpy as np
from handsdk.backends import open_model
m = open_model(open(sys.argv[1], "rb").read(), num_threads=2, name="check")
x = dict(np.load(sys.argv[2]))
for _ in range(3):
    m(**x)
print("ok")
"""


def runs_in_child(model_bytes: bytes, inputs: dict, *, timeout: float = 120.0, python: str | None = None
                  ) -> tuple[bool, str]:
    """Open and run a converted model in a child process first: an
    interpreter that crashes on it (LiteRT 2.3's XNNPACK aborts with "double
    free or corruption" on some int8 models) kills the child, not the
    conversion. Returns (ok, why)."""
    import signal
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        mp, xp = Path(d) / "model.bin", Path(d) / "inputs.npz"
        mp.write_bytes(model_bytes)
        np.savez(xp, **{k: np.asarray(v) for k, v in inputs.items()})
        try:
            r = subprocess.run([python or sys.executable, "-c", _CHILD, str(mp), str(xp)], capture_output=True,
                               text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, f"the runtime's interpreter did not finish 3 runs in {timeout:.0f} s"
    if r.returncode == 0 and "ok" in r.stdout:
        return True, ""
    if r.returncode < 0:
        try:
            sig = signal.Signals(-r.returncode).name
        except ValueError:
            sig = f"signal {-r.returncode}"
        tail = " ".join(r.stderr.strip().splitlines()[-1:])[:200]
        return False, f"the runtime's interpreter crashed on it ({sig}{': ' + tail if tail else ''})"
    tail = " ".join(r.stderr.strip().splitlines()[-1:])[:300]
    return False, f"the runtime's interpreter failed on it (exit {r.returncode}: {tail})"


def measure_parity(trained: Trained, tflite_bytes: bytes, inputs: list[dict]) -> dict:
    """Reload the converted model in the runtime's interpreter, run it on
    ``inputs`` and compare with the Keras model."""
    from handsdk.backends import open_model

    m = open_model(tflite_bytes, num_threads=2, name=trained.role)
    keras_model = trained.model
    out_names = list(keras_model.output_names)
    dec = trained.metadata.get("decoding", {})
    ious, errs, agree, turns, max_abs = [], [], [], [], 0.0
    for x in inputs:
        ref = keras_model({k: v for k, v in x.items()} if len(x) > 1 else next(iter(x.values())), training=False)
        if isinstance(ref, dict):
            ref = {k: np.asarray(ref[k]) for k in out_names}
        else:
            ref = ref if isinstance(ref, (list, tuple)) else [ref]
            ref = {k: np.asarray(v) for k, v in zip(out_names, ref)}
        got = m(**x)
        missing = sorted(set(ref) - set(got))
        if missing:
            raise ValueError(f"{trained.role}: the Keras model has outputs the converted model lacks "
                             f"({', '.join(missing)}; it has {', '.join(sorted(got))}): not the same model")
        for k in ref:
            max_abs = max(max_abs, float(np.abs(ref[k] - got[k]).max()))
        if trained.role == "detector":
            a, b = _decode_detector(ref["skeleton"], dec), _decode_detector(got["skeleton"], dec)
            if not a and not b:
                ious.append(1.0)
            else:
                for ba in a:
                    ious.append(max((float(box_iou(ba.box, bb.box)[0, 0]) for bb in b), default=0.0))
                if len(b) > len(a):
                    ious.extend([0.0] * (len(b) - len(a)))
        elif trained.role == "landmarker":
            size = x["image"].shape[1]
            errs.append(float(np.linalg.norm(_keypoints_from(ref, size) - _keypoints_from(got, size), axis=1).mean()))
            if "rotation" in ref:  # the angle the second crop is turned by
                turns.append(angle_error_deg(rotation_from_output(ref["rotation"].reshape(-1)),
                                             rotation_from_output(got["rotation"].reshape(-1))))
        else:
            (k,) = ref
            agree.append(int(np.argmax(ref[k][0]) == np.argmax(got[k][0])))
    report = {"samples": len(inputs), "max_abs_output_diff": round(max_abs, 5)}
    if ious:
        report["box_iou"] = round(float(np.mean(ious)), 4)
    if errs:
        report["keypoint_error_px"] = round(float(np.mean(errs)), 3)
    if turns:
        report["rotation_error_deg"] = round(float(np.mean(turns)), 3)
    if agree:
        report["gesture_agreement"] = round(float(np.mean(agree)), 4)
    return report


def _checked_parity(trained: Trained, model_bytes: bytes, inputs: list[dict], tolerance) -> tuple[dict, bool, str]:
    """Parity of a converted model, measured only once it has run in a child
    process (:func:`runs_in_child`); a model that crashes the runtime gets
    ``{"crashed": why}`` and fails."""
    from handsdk.backends import model_suffix

    if model_suffix(model_bytes) != ".engine" and inputs:  # (a TensorRT engine runs only on its Jetson)
        ran, why = runs_in_child(model_bytes, inputs[0])
        if not ran:
            return {"crashed": why, "within_tolerance": False}, False, why
    parity = measure_parity(trained, model_bytes, inputs)
    ok, why = parity_ok(parity, tolerance)
    parity["within_tolerance"] = ok
    return parity, ok, why


def parity_ok(report: dict, tolerance: dict | None = None) -> tuple[bool, str]:
    tol = dict(TOLERANCE, **(tolerance or {}))
    if "box_iou" in report and report["box_iou"] < tol["detector_iou"]:
        return False, f"box IoU with the Keras model {report['box_iou']:.3f} < {tol['detector_iou']}"
    if "keypoint_error_px" in report and report["keypoint_error_px"] > tol["keypoint_error_px"]:
        return False, (f"keypoints move {report['keypoint_error_px']:.2f} px from the Keras model's "
                       f"(> {tol['keypoint_error_px']} px)")
    if "rotation_error_deg" in report and report["rotation_error_deg"] > tol["rotation_error_deg"]:
        return False, (f"the hand's angle read moves {report['rotation_error_deg']:.1f} degrees from the Keras "
                       f"model's (> {tol['rotation_error_deg']})")
    if "gesture_agreement" in report and report["gesture_agreement"] < tol["gesture_agreement"]:
        return False, f"gesture agreement {report['gesture_agreement']:.3f} < {tol['gesture_agreement']}"
    return True, "within tolerance"


def _training_data(md: dict) -> list:
    """The data a run trained on: ``training_data`` or the trainer's
    ``data.train`` source names."""
    if md.get("training_data"):
        return list(md["training_data"])
    return [str(x) for x in (md.get("data") or {}).get("train", [])]


def _metrics(md: dict) -> dict:
    if md.get("metrics"):
        return dict(md["metrics"])
    best = md.get("best") or {}
    out = {k: v for k, v in (best.get("metrics") or {}).items() if k.startswith("val_")}
    if md.get("evaluation"):
        out["evaluation"] = md["evaluation"]
    return out


@dataclass
class ConversionReport:
    format: str
    output: str
    size_bytes: int
    models: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    def to_dict(self):
        return {"format": self.format, "output": self.output, "size_bytes": self.size_bytes,
                "models": self.models, "warnings": self.warnings}


def convert_bundle(detector, pose, gestures: list, *, fmt: str = "fp32", output=None, device: str | None = None,
                   data: str = "auto", data_root=None, calibration_samples: int = 64, parity_samples: int = 32,
                   tolerance: dict | None = None, strict: bool = False, qat_steps: int = 200,
                   name: str = "handsdk", extra_provenance: dict | None = None,
                   fallback: str | None = None, thresholds: dict | None = None,
                   progress: Callable[[str], None] = print) -> ConversionReport:
    """Convert trained detector, pose and gesture models (paths of runs or
    .keras files, or :class:`Trained`) into one bundle of format ``fmt``.

    ``fallback`` (e.g. ``"fp16"``): a model that loses more than the
    tolerance in ``fmt`` is converted again in this format instead (the
    manifest records each model's quantisation; the report says which fell
    back and why)."""
    from handsdk.bundle import GestureSet, build_bundle

    f = get_format(fmt)
    if device is not None:
        from handsdk.devices import load_device

        prof = load_device(device)
        if fmt != prof["format"]:
            progress(f"note: {fmt} is not the usual format for {device} (its profile prefers {prof['format']})")
    for f_name in (fmt, fallback):  # (not ``name``: the bundle's name)
        why = get_format(f_name).unavailable() if f_name else None
        if why:
            raise ConversionError(why)
    trained = []
    for role, item in [("detector", detector), ("landmarker", pose)] + [(None, g) for g in gestures]:
        t = item if isinstance(item, Trained) else load_trained(item, role)
        if role is None and not t.role.startswith("gesture:"):
            t.role = f"gesture:{t.metadata.get('label_set', 'gestures')}"
        trained.append(t)
    # the thresholds the models were calibrated with (their folders' thresholds.json), then ``thresholds``
    calibrated = bundle_thresholds(trained)
    thresholds = dict(calibrated, **(thresholds or {}))
    for t in trained:
        if (t.metadata.get("decoding") or {}).get("min_score") is not None:
            continue  # a set with its own gate in its decoding (a motion set): the bundle keeps it there
        if not t.thresholds and not any(k in thresholds for k in _manifest_keys(t)):
            progress(f"note: {t.path} carries no thresholds ({Path(t.path).parent / THRESHOLDS_FILE}): the bundle "
                     f"gets the defaults for {t.role} ({_defaults_text(t)})")
    files, report = {}, ConversionReport(format=fmt, output=str(output or ""), size_bytes=0)
    for i, t in enumerate(trained, 1):
        t0 = time.perf_counter()
        progress(f"[{i}/{len(trained)}] {t.role}: preparing {max(calibration_samples, parity_samples)} inputs")
        inputs = representative_inputs(t, max(calibration_samples, parity_samples), data=data,
                                       data_root=data_root)
        progress(f"[{i}/{len(trained)}] {t.role}: converting to {fmt}")
        b, info = convert_model(t, fmt, inputs[:calibration_samples], qat_steps=qat_steps, progress=progress)
        parity, ok, why = _checked_parity(t, b, inputs[:parity_samples], tolerance)
        used = fmt
        if not ok and fallback and fallback != fmt:
            lost = "crashes the runtime" if parity.get("crashed") else "loses accuracy"
            progress(f"[{i}/{len(trained)}] {t.role}: {fmt} {lost} ({why}); converting to {fallback}")
            b2, info2 = convert_model(t, fallback, inputs[:calibration_samples], qat_steps=qat_steps,
                                      progress=progress)
            parity2, ok, why = _checked_parity(t, b2, inputs[:parity_samples], tolerance)
            parity2["fell_back_from"] = {"format": fmt, **{k: v for k, v in parity.items() if k != "samples"}}
            report.warnings.append(f"{t.role}: {fmt} {'crashed the runtime' if parity.get('crashed') else 'lost accuracy'}"
                                   f", shipped as {fallback} instead")
            b, info, parity, used = b2, info2, parity2, fallback
        if parity.get("crashed"):
            raise ConversionError(f"{t.role} in {used}: {why}; nothing was written. Convert to another format "
                                  f"(e.g. --format fp16, or --fallback fp16)")
        if not ok:
            msg = f"{t.role} in {used} LOSES ACCURACY against the Keras model: {why}"
            progress("!" * 8 + " " + msg)
            report.warnings.append(msg)
            if strict:
                raise ConversionError(msg)
        report.models[t.role] = {"size_bytes": len(b), "parity": parity, **info, "format": used,
                                 "seconds": round(time.perf_counter() - t0, 1)}
        files[t.role] = (t, b)
        progress(f"[{i}/{len(trained)}] {t.role}: {len(b) / 1024:.1f} KiB, parity {json.dumps(parity)}")
    det, lm = files["detector"], files["landmarker"]

    def _q(role):
        return get_format(report.models[role]["format"]).quantization
    gsets = {}
    for role, (t, b) in files.items():
        if role.startswith("gesture:"):
            md = t.metadata
            labels = md.get("labels")
            if not labels:
                raise ConversionError(f"{t.path}: its metadata names no labels")
            # (the whole decoding: a motion set's input, history and gate go with it)
            gsets[role.split(":", 1)[1]] = GestureSet.from_decoding(b, labels, md.get("decoding"),
                                                                    quantization=_q(role), metrics=_metrics(md))
    provenance = {
        "format": fmt, "device": device,
        "training_data": sorted({d for t, _ in files.values() for d in _training_data(t.metadata)}),
        "training_data_by_model": {r: _training_data(t.metadata) for r, (t, _) in files.items()},
        "configs": {r: t.metadata.get("config") for r, (t, _) in files.items() if t.metadata.get("config")},
        "metrics": {r: _metrics(t.metadata) for r, (t, _) in files.items() if _metrics(t.metadata)},
        "parity": {r: v["parity"] for r, v in report.models.items()},
        "sources": {r: t.path for r, (t, _) in files.items()},
        **(extra_provenance or {}),
    }
    lm_dec = dict(lm[0].metadata.get("decoding", {}))
    data_bytes = build_bundle(output, detector=det[1], landmarker=lm[1], gestures=gsets,
                              detector_decoding=det[0].metadata.get("decoding"), landmarker_decoding=lm_dec,
                              quantization={"detector": _q("detector"), "landmarker": _q("landmarker")},
                              provenance=provenance, name=name, thresholds=thresholds)
    report.size_bytes = len(data_bytes)
    return report


# ------------------------------------------------- a bundle to another format

#: how close a Keras model found for a bundle's model must stay to it to be taken
#: for its source (loose: the bundle's model may be int8)
SOURCE_TOLERANCE = {"detector_iou": 0.6, "keypoint_error_px": 4.0, "gesture_agreement": 0.75,
                    "rotation_error_deg": 30.0}


def _weights_dir() -> Path | None:
    try:
        from handsdk.train.release import WEIGHTS_DIR
    except Exception:  # pragma: no cover - train package absent
        return None
    return Path(WEIGHTS_DIR)


def keras_candidates(bundle, role: str, weights_dir=None) -> list[Path]:
    """Where the Keras model of ``bundle``'s ``role`` may be: the path its
    provenance records (``sources``), then the folder of the same run name in
    ``weights_dir`` (default ``train/weights``, where the shipped models'
    weights are committed)."""
    src = (bundle.provenance.get("sources") or {}).get(role)
    if not src:
        return []
    src = Path(str(src))
    run = src.parent if src.suffix in (".keras", ".h5") else src
    out = [src]
    wd = Path(weights_dir) if weights_dir is not None else _weights_dir()
    if wd is not None and run.name:
        out.append(wd / run.name)
    return [p for p in dict.fromkeys(out) if p.exists()]


def _source_bytes_runnable(b: bytes) -> bool:
    from handsdk.backends import model_suffix

    return model_suffix(b) in (".tflite", ".onnx")


def is_motion_set(entry) -> bool:
    """A motion gesture set (it reads a keypoint history, :mod:`handsdk.motion`):
    its own training converts it (``python -m handsdk.train.models.motion.train``),
    and a bundle converted to another format carries it over as it is."""
    return (entry.decoding or {}).get("input") == "keypoint_history"


def trained_from_bundle(bundle, *, overrides: dict | None = None, weights_dir=None, data: str = "auto",
                        data_root=None, samples: int = 16, progress: Callable[[str], None] = print) -> list:
    """The Keras models a bundle was converted from, as :class:`Trained` with
    the bundle's decoding, labels and gesture kinds (those of the bundle win
    over the models' metadata): ``[detector, landmarker, *gestures]``.

    Each candidate (``overrides[role]``, else :func:`keras_candidates`) is
    checked against the bundle's own model on ``samples`` inputs: a Keras model
    that is not the one the bundle was made from (another run at the recorded
    path) is passed over."""
    from handsdk.bundle import load_bundle

    b = bundle if hasattr(bundle, "models") else load_bundle(bundle)
    overrides = dict(overrides or {})
    out = []
    roles = ["detector", "landmarker"] + [r for r in b.models if r.startswith("gesture:")
                                          and not is_motion_set(b.models[r])]
    for role in roles:
        e = b.models[role]
        cands = [Path(overrides[role])] if overrides.get(role) else keras_candidates(b, role, weights_dir)
        if not cands:
            src = (b.provenance.get("sources") or {}).get(role)
            flag = {"detector": "--detector", "landmarker": "--pose"}.get(role, "--gesture")
            raise ConversionError(f"{role}: the Keras model this bundle was converted from is not here "
                                  f"({'its provenance records ' + repr(src) if src else 'its provenance records none'}"
                                  f"); give it with {flag}")
        why_not = []
        for c in cands:
            t = load_trained(c, role)
            t.role = role
            md = dict(t.metadata)
            md["decoding"] = dict(md.get("decoding") or {}, **e.decoding)
            if e.labels:
                md["labels"] = list(e.labels)
                md["label_set"] = role.split(":", 1)[1]
                if e.extra.get("metrics"):
                    md["metrics"] = e.extra["metrics"]
            t.metadata = md
            t.thresholds = split_thresholds(b.thresholds, role)
            if e.labels:
                n_out = int(np.prod(t.model.outputs[0].shape[1:]))
                if n_out != len(e.labels):
                    why_not.append(f"{c}: {n_out} classes, the bundle's set has {len(e.labels)}")
                    continue
            src_bytes = b.model_bytes(role)
            if samples and _source_bytes_runnable(src_bytes):
                inputs = representative_inputs(t, samples, data=data, data_root=data_root)
                try:
                    par = measure_parity(t, src_bytes, inputs)
                except ValueError as e:
                    why_not.append(f"{c}: {e}")
                    continue
                ok, why = parity_ok(par, SOURCE_TOLERANCE)
                if not ok:
                    why_not.append(f"{c}: not the model the bundle holds ({why})")
                    continue
                md["parity_with_source"] = par
            progress(f"{role}: from {c}")
            out.append(t)
            break
        else:
            hint = (" (to build a bundle from other models, convert them with --detector, --pose and "
                    "--gesture instead of a BUNDLE)" if overrides.get(role) else "")
            raise ConversionError(f"{role}: no Keras model found is the one this bundle holds: "
                                  + "; ".join(why_not) + hint)
    return out


def convert_from_bundle(bundle, *, fmt: str = "fp32", output=None, overrides: dict | None = None,
                        weights_dir=None, device: str | None = None, data: str = "auto", data_root=None,
                        progress: Callable[[str], None] = print, **kw) -> ConversionReport:
    """Convert a bundle to another format: its models are converted again
    from the Keras models it was made from (:func:`trained_from_bundle`), with
    its thresholds, decoding, gesture sets, name and provenance (training data,
    credits, configs, the source's evaluation); the provenance records the
    new format's parity and ``converted_from`` (the source bundle)."""
    import hashlib

    from handsdk.bundle import load_bundle

    src_path = None if hasattr(bundle, "models") else bundle
    b = bundle if src_path is None else load_bundle(bundle)
    trained = trained_from_bundle(b, overrides=overrides, weights_dir=weights_dir, data=data,
                                  data_root=data_root, progress=progress)
    prov = dict(b.provenance)
    kept = {k: v for k, v in prov.items()
            if k not in ("format", "device", "parity", "sources", "quantization_by_model", "converted_from")}
    src_info = {"name": b.manifest.get("name"), "format": prov.get("format"), "created": b.manifest.get("created"),
                "quantization": {r: e.quantization for r, e in b.models.items()},
                "parity_with_source": {t.role: t.metadata["parity_with_source"] for t in trained
                                       if "parity_with_source" in t.metadata}}
    if src_path is not None and not isinstance(src_path, (bytes, bytearray)):
        src_info["file"] = Path(os.fspath(src_path)).name
        src_info["sha256"] = hashlib.sha256(Path(os.fspath(src_path)).read_bytes()).hexdigest()
    if "evaluation" in kept:
        src_info["evaluation"] = "provenance.evaluation was measured on the source bundle"
    kept["converted_from"] = src_info
    rep = convert_bundle(trained[0], trained[1], trained[2:], fmt=fmt, output=output, device=device, data=data,
                         data_root=data_root, name=b.manifest.get("name", "handsdk"), extra_provenance=kept,
                         thresholds=b.thresholds, progress=progress, **kw)
    motion = {r.split(":", 1)[1]: e for r, e in b.models.items() if r.startswith("gesture:") and is_motion_set(e)}
    if motion and output is not None:
        from handsdk.bundle import add_gesture_set

        for name, e in motion.items():  # (its own training converted it; its bytes and gate stay)
            dec = {k: v for k, v in e.decoding.items() if k not in ("kind", "none_label")}
            add_gesture_set(output, name, b.files[e.file], e.labels, output=output, kind=e.decoding.get("kind"),
                            none_label=e.decoding.get("none_label"), quantization=e.quantization, decoding=dec)
            progress(f"gesture:{name}: a motion set, carried over as it is ({e.quantization})")
    return rep
