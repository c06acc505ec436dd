"""Custom gestures in minutes: train a GestureNet head on captured keypoints and
write a new bundle (``handsdk train gesture --data <folder> --base <bundle>
-o my.handsdk``; in Python :func:`train_custom_gestures` with
:class:`CustomGestureOptions`). Needs the train extra; the bundle it writes
runs on the base install.

Data: a dataset folder as written by ``handsdk capture`` (see
:mod:`handsdk.capture`: ``<label>/keypoints.jsonl``, ``none/`` for negatives).

What happens:

1. the captured samples are read and split, per label and per source, into
   train and validation: the *last* ``val_fraction`` of each (label, source)
   run of frames is held out (stratified by label, and temporal, so that
   neighbouring video frames do not sit on both sides of the split);
2. the ``none`` class = the captured negatives (``none/``) plus **generic
   hands**: keypoints of synthetic hands from the renderer's kinematic hand
   model (:mod:`handsdk.train.synth`; no pixels are rendered): random poses
   from the whole joint range, relaxed poses, and the templates of the
   built-in sets (commands, ASL letters) under random views and hand shapes.
   Generic hands that fall inside the region of any captured gesture
   (distance to its centroid below that class's 95th-percentile radius x
   ``exclude_margin``) are dropped, so a custom gesture that happens to look
   like a built-in one is never taught as ``none``;
3. every epoch draws a fresh augmentation of the training keypoints (in pixel
   space, before :func:`handsdk.keypoint_features`;
   :mod:`handsdk.train.models.gesture.augment`): rotation about the wrist,
   anisotropic scale, jitter, and mirrored hands. Mirroring flips x *and*
   handedness (the features canonicalise Left hands to Right, so a correctly
   mirrored hand has the same features: the set works for both hands whatever
   hand was captured); ``handedness_error`` > 0 additionally flips x alone
   with that probability, to simulate a wrong handedness estimate (off by
   default: it would merge gestures that are mirror images of each other);
4. GestureNet (:func:`handsdk.train.models.gesture.fit.fit_gesture`) is trained
   with class-balanced weights until ``epochs`` or the ``time_budget_s`` is
   reached (or validation stops improving), keeping the best epoch by
   validation macro-F1; with label smoothing (0.1, as the built-in sets'
   recipe, :mod:`handsdk.train.gesture_eval`); ``held_out_sources=True`` also
   scores each capture source (a person, a session) with a model trained on
   the others: the figure that predicts a new user;
5. the model is converted to TFLite (``fp32``, ``dynamic`` or ``int8``),
   evaluated again *as converted* on the validation split (accuracy, macro-F1,
   confusion matrix PNG next to the output), and written into a copy of the
   base bundle: the detector, the landmarker and every other gesture set are
   kept byte for byte with their manifest entries; a set with the same name
   is replaced. Provenance names the data folder, sample counts and metrics.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable

import numpy as np

from handsdk.capture import NONE_LABEL, CaptureError, read_dataset
from handsdk.checks import check_bool, check_choice, check_int, check_range, is_number
from handsdk.keypoints import NUM_KEYPOINTS, batch_keypoint_features
from handsdk.train.models.gesture.augment import KeypointAugment, augment_keypoints

QUANTIZATIONS = ("fp32", "dynamic", "int8")
_SET = re.compile(r"^[A-Za-z0-9_-]+$")


class CustomTrainingError(ValueError):
    """The data or options cannot make a gesture set; the message says why."""


# ---------------------------------------------------------------- generic hands


def generic_hands(n: int, rng: np.random.Generator, *, template_sets=("commands", "asl_letters")):
    """``n`` synthetic hands (:func:`handsdk.train.synth.keypoint_hands`) as
    (keypoints (n, 21, 3) in projected units, handedness list, kind list):
    40% random poses over the joint range, 20% relaxed poses, 40% templates
    of the built-in sets (random view, hand shape, joint noise)."""
    from handsdk.train import synth

    tmpl = [(s, lab) for s in template_sets for lab in synth.GESTURE_SETS.get(s, ())]

    def draw(r, i):
        u = r.random()
        if u < 0.4 or not tmpl:
            return synth.random_pose(r), "random"
        if u < 0.6:
            return synth.random_pose(r, relaxed=True), "relaxed"
        s, lab = tmpl[int(r.integers(len(tmpl)))]
        return synth.pose_from_template(s, lab, r, 6.0), f"{s}/{lab}"

    return synth.keypoint_hands(n, rng, draw)


def class_regions(feats: np.ndarray, labels: np.ndarray, classes) -> list:
    """(centroid, radius) of each class's features (95th percentile distance)."""
    out = []
    for c in classes:
        f = feats[labels == c].reshape(-1, NUM_KEYPOINTS * 2)
        if len(f) == 0:
            continue
        mu = f.mean(0)
        d = np.linalg.norm(f - mu, axis=1)
        out.append((mu, float(np.percentile(d, 95)) if len(d) > 1 else 0.0))
    return out


def outside_regions(feats: np.ndarray, regions, margin: float) -> np.ndarray:
    """Which of ``feats`` lie farther than ``margin`` radii (at least 0.05) from
    every region of :func:`class_regions`: synthetic "none" hands kept as
    negatives only where they do not look like a class."""
    f = feats.reshape(len(feats), -1)
    keep = np.ones(len(f), bool)
    for mu, r in regions:
        keep &= np.linalg.norm(f - mu, axis=1) >= max(r, 0.05) * margin
    return keep


# ---------------------------------------------------------------- splitting


def temporal_split(labels, sources, order, val_fraction: float, rng: np.random.Generator):
    """Indices (train, val): per (label, source) the last ``val_fraction`` of
    the frames in capture order is held out; samples that are alone in their
    source (photos) are split at random per label. If a label would get no
    validation sample, one random sample of it is held out (labels with at
    least 3 samples)."""
    labels, sources, order = list(labels), list(sources), np.asarray(order, np.float64)
    groups: dict = {}
    for i, (lab, src) in enumerate(zip(labels, sources)):
        groups.setdefault((lab, src), []).append(i)
    val = []
    singles: dict = {}  # photos: one sample per source -> a random split per label
    for (lab, src), idx in groups.items():
        if len(idx) == 1:
            singles.setdefault(lab, []).extend(idx)
            continue
        idx = sorted(idx, key=lambda i: order[i])
        k = int(round(len(idx) * val_fraction))
        if len(idx) >= 2 and k == 0 and val_fraction > 0:
            k = 1 if len(idx) >= 5 else 0
        if k:
            val.extend(idx[-k:])
    for lab, idx in singles.items():
        k = int(round(len(idx) * val_fraction))
        if k:
            val.extend(int(i) for i in rng.choice(idx, k, replace=False))
    val_set = set(val)
    for lab in sorted(set(labels)):
        idx = [i for i, l in enumerate(labels) if l == lab]
        if val_fraction > 0 and len(idx) >= 3 and not any(i in val_set for i in idx):
            val_set.add(int(rng.choice(idx)))
    val = np.array(sorted(val_set), np.int64)
    train = np.array([i for i in range(len(labels)) if i not in val_set], np.int64)
    return train, val


# ---------------------------------------------------------------- bundle


def _sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def extend_bundle(base, set_name: str, model: bytes, labels, *, output=None, kind: str = "commands",
                  none_label: str | None = NONE_LABEL, quantization: str = "fp32", metrics: dict | None = None,
                  provenance: dict | None = None, name: str | None = None) -> bytes:
    """A copy of the bundle ``base`` (a loaded :class:`handsdk.bundle.Bundle`)
    with the gesture set ``set_name`` added (or replaced): the bundle's own
    writer, :func:`handsdk.bundle.add_gesture_set` (a bad set name is a
    :class:`CustomTrainingError`). Returns the bytes (written to ``output``
    when given); the result is loaded and checked first."""
    from handsdk.bundle import add_gesture_set, check_gesture_set_name

    try:
        check_gesture_set_name(set_name)
    except ValueError as e:
        raise CustomTrainingError(str(e)) from None
    return add_gesture_set(base, set_name, model, labels, output=output, kind=kind, none_label=none_label,
                           quantization=quantization, metrics=metrics, provenance=provenance, name=name)


# ---------------------------------------------------------------- options

KINDS = ("commands", "spelling")


@dataclass(frozen=True)
class CustomGestureOptions:
    """How :func:`train_custom_gestures` trains; checked at construction (a
    :class:`CustomTrainingError` says what to change). ``handsdk train gesture
    --set key=value`` sets any of :data:`CLI_OPTIONS`."""

    set_name: str = "custom"
    epochs: int = 60
    time_budget_s: float = 60.0
    quantization: str = "fp32"  # one of QUANTIZATIONS
    seed: int = 0
    val_fraction: float = 0.2  # the last part of each (label, source) run of frames is held out
    generic_negatives: int | None = None  # synthetic hands for `none`; None: max(300, captured samples); 0: off
    kind: str = "commands"  # or "spelling" (the set's decoding)
    batch_size: int = 64
    learning_rate: float = 3e-3
    examples_per_epoch: int = 4096
    patience: int = 12  # epochs without a better validation macro-F1 before stopping
    threads: int | None = None  # TensorFlow's intra-op threads (None: its default)
    exclude_margin: float = 1.0  # generic hands this close to a captured gesture (x its radius) are dropped
    min_samples: int = 5  # per label
    label_smoothing: float = 0.1
    held_out_sources: bool = False  # also score each capture source with a model trained on the others
    augment: KeypointAugment = field(default_factory=KeypointAugment)

    def __post_init__(self):
        E = CustomTrainingError
        check_choice("quantization", self.quantization, QUANTIZATIONS, error=E)
        if not _SET.match(str(self.set_name)):
            raise E(f"set name {self.set_name!r}: letters, digits, '_' and '-' only")
        check_choice("kind", self.kind, KINDS, error=E)
        if not is_number(self.val_fraction) or not 0 <= self.val_fraction < 0.9:
            raise E(f"val_fraction must be in [0, 0.9) (the share of each label's captures held out for "
                    f"validation, e.g. --set val_fraction=0.2), got {self.val_fraction!r}")
        for name, low in (("epochs", 1), ("batch_size", 1), ("examples_per_epoch", 1), ("min_samples", 1),
                          ("patience", 0), ("seed", 0), ("generic_negatives", 0), ("threads", 0)):
            v = getattr(self, name)
            if v is not None or name not in ("generic_negatives", "threads"):
                check_int(name, v, low, note=f"e.g. --set {name}={getattr(CustomGestureOptions, name) or low}",
                          error=E)
        check_range("time_budget_s", self.time_budget_s, 0, note="seconds", error=E)
        check_range("learning_rate", self.learning_rate, 0, lo_open=True, note="e.g. 3e-3", error=E)
        check_range("exclude_margin", self.exclude_margin, 0, note="1: each class's 95th-percentile radius", error=E)
        check_range("label_smoothing", self.label_smoothing, 0, 1, note="e.g. 0.1", error=E)
        check_bool("held_out_sources", self.held_out_sources, error=E)
        if not isinstance(self.augment, KeypointAugment):
            raise E("augment must be a handsdk.train.models.gesture.augment.KeypointAugment")


#: options of train_custom_gestures that `handsdk train gesture --data ... --set key=value` may set
CLI_OPTIONS = tuple(f.name for f in fields(CustomGestureOptions) if f.name not in ("set_name", "augment"))


# ---------------------------------------------------------------- training


def _tflite_scores(model_bytes: bytes, feats: np.ndarray) -> np.ndarray:
    from handsdk.backends import open_model

    m = open_model(model_bytes, num_threads=1, name="gesture")
    (inp,) = m.inputs
    out = []
    for f in feats:
        res = m(**{inp: f[None].astype(np.float32)})
        out.append(np.asarray(next(iter(res.values())))[0])
    return np.asarray(out, np.float32)


def train_custom_gestures(data_folder, base_bundle, output, options: CustomGestureOptions | None = None, *,
                          progress: Callable[[str], None] | None = print) -> dict:
    """Train a gesture set on a captured dataset and write a bundle.

    data_folder: the dataset (``handsdk capture``'s format). base_bundle: the
    bundle (path, bytes or loaded) whose detector, landmarker and gesture sets
    are kept. output: the new ``.handsdk`` file; the confusion matrix PNG and
    a JSON report are written beside it (``<stem>.confusion.png``,
    ``<stem>.report.json``). options: :class:`CustomGestureOptions` (default:
    its defaults). Returns the report (dict).
    """
    t_start = time.monotonic()
    o = options or CustomGestureOptions()
    say = progress or (lambda s: None)
    output = _output_path(output)
    base = _load_base(base_bundle)
    ds, counts, classes = _read_samples(data_folder, o.min_samples)
    rng = np.random.default_rng(o.seed)
    p = _pools(ds, counts, classes, o, rng, say, data_folder)
    fit = _fit(p, classes, o, rng, say)
    tfl = _convert(fit.model, p, o.quantization, rng)
    report = {"set_name": o.set_name, "labels": classes, "kind": o.kind, "quantization": o.quantization,
              "data_folder": str(Path(os.fspath(data_folder)).resolve()), "output": str(output),
              "samples": counts, "train_samples": int(len(p.train)), "val_samples": int(len(p.val)),
              "generic_negatives": {"used": int(len(p.generic_kp)), "dropped_near_gestures": p.generic_dropped,
                                    "train": int(len(p.generic_train)), "val": int(len(p.generic_val)),
                                    "kind": "synthetic hands (renderer's kinematic model: random, relaxed and "
                                            "built-in template poses)"},
              "epochs": fit.epochs, "best_epoch": fit.best_epoch, "train_seconds": round(fit.seconds, 1),
              "history": fit.history}
    metrics = _evaluate(fit.model, tfl, p, classes, o.quantization, output, report, say)
    srcs = np.array([str(x) for x in ds.sources], object)
    if o.held_out_sources and len(set(srcs.tolist())) >= 2:
        report["held_out_sources"] = _held_out_sources(
            batch_keypoint_features(ds.keypoints, p.hands), p.labels, srcs, classes,
            batch_keypoint_features(p.generic_kp, p.generic_hands) if len(p.generic_kp) else None, o,
            epochs=max(5, min(fit.epochs, 30)), say=say)
    return _write_bundle(base, tfl, report, metrics, o, output, say, t_start)


def _output_path(output) -> Path:
    output = Path(os.fspath(output))
    if output.suffix == "":
        output = output.with_suffix(".handsdk")
    if output.is_dir():
        raise CustomTrainingError(f"{output} is a folder; -o takes the bundle file to write")
    output.parent.mkdir(parents=True, exist_ok=True)
    return output


def _load_base(base_bundle):
    """The base bundle, loaded (and checked) before any training."""
    from handsdk.bundle import Bundle, BundleError, load_bundle

    try:
        return base_bundle if isinstance(base_bundle, Bundle) else load_bundle(base_bundle, check=False)
    except (BundleError, FileNotFoundError) as e:
        raise CustomTrainingError(f"base bundle: {e}") from e


def _read_samples(data_folder, min_samples: int):
    """(dataset, label counts, classes: none first, then the gestures sorted);
    a label with too few samples is an error that says what to record."""
    try:
        ds = read_dataset(data_folder)
    except CaptureError as e:
        raise CustomTrainingError(str(e)) from e
    counts = ds.counts()
    gestures = sorted(k for k in counts if k != NONE_LABEL)
    if not gestures:
        raise CustomTrainingError(f"{data_folder}: no gesture folders besides '{NONE_LABEL}'")
    small = {k: v for k, v in counts.items() if v < min_samples}
    if small:
        hints = []
        for k, v in small.items():
            if k == NONE_LABEL:
                hints.append(f"'{NONE_LABEL}' has {v}, needs {min_samples}: record {min_samples - v} or more "
                             f"negatives (hands doing no gesture of yours) with `handsdk capture --label "
                             f"{NONE_LABEL} -o {data_folder}`, or delete {Path(data_folder) / NONE_LABEL} to use "
                             f"generic synthetic hands alone for '{NONE_LABEL}'")
            else:
                hints.append(f"'{k}' has {v}, needs {min_samples}: record {min_samples - v} or more with "
                             f"`handsdk capture --label {k} -o {data_folder}`")
        raise CustomTrainingError(f"too few samples (need >= {min_samples} per label): "
                                  + ", ".join(f"{k}={v}" for k, v in small.items()) + ". " + "; ".join(hints)
                                  + " (or lower the bar: --set min_samples=N)")
    return ds, counts, [NONE_LABEL] + gestures


@dataclass
class _Pools:
    """The hands of one run: the captured ones (class indices, handedness,
    train / validation indices), the generic ``none`` hands, the training
    pool (pixel keypoints, augmented each epoch) and the validation features
    (captured first, then generic)."""

    labels: np.ndarray
    hands: list
    train: np.ndarray
    val: np.ndarray
    generic_kp: np.ndarray
    generic_hands: list
    generic_dropped: int
    generic_train: np.ndarray
    generic_val: np.ndarray
    train_kp: np.ndarray
    train_hands: list
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    class_weights: np.ndarray


def _pools(ds, counts, classes, o: CustomGestureOptions, rng, say, data_folder) -> _Pools:
    y_all = np.array([classes.index(l) for l in ds.labels], np.int64)
    h_all = [h if h is not None else "Right" for h in ds.handedness]
    tr, va = temporal_split(ds.labels, ds.sources, ds.order, o.val_fraction, rng)
    say(f"data {data_folder}: " + ", ".join(f"{k}={counts[k]}" for k in sorted(counts))
        + f" ({len(tr)} train / {len(va)} validation" + (f", {ds.skipped} malformed skipped" if ds.skipped else "")
        + ")")
    gen_kp, gen_h, gen_dropped = _generic_negatives(ds, y_all, h_all, len(classes), o, rng, say)
    if counts.get(NONE_LABEL, 0) == 0 and len(gen_kp) == 0:
        raise CustomTrainingError(f"no negatives: capture some into {NONE_LABEL}/ or allow generic hands")
    g_perm = rng.permutation(len(gen_kp))
    g_val_n = int(round(len(gen_kp) * o.val_fraction)) if o.val_fraction > 0 else 0
    g_va, g_tr = g_perm[:g_val_n], g_perm[g_val_n:]

    def features(kp, hands):
        return batch_keypoint_features(kp, hands) if len(kp) else np.zeros((0, NUM_KEYPOINTS, 2), np.float32)

    y_tr = np.concatenate([y_all[tr], np.zeros(len(g_tr), np.int64)])
    cnt = np.bincount(y_tr, minlength=len(classes)).astype(np.float64)
    if (cnt == 0).any():
        missing = [classes[i] for i in np.where(cnt == 0)[0]]
        raise CustomTrainingError(f"no training samples for {missing}")
    return _Pools(
        labels=y_all, hands=h_all, train=tr, val=va, generic_kp=gen_kp, generic_hands=gen_h,
        generic_dropped=gen_dropped, generic_train=g_tr, generic_val=g_va,
        train_kp=np.concatenate([ds.keypoints[tr], gen_kp[g_tr]], 0),
        train_hands=[h_all[i] for i in tr] + [gen_h[i] for i in g_tr], train_y=y_tr,
        val_x=np.concatenate([features(ds.keypoints[va], [h_all[i] for i in va]),
                              features(gen_kp[g_va], [gen_h[i] for i in g_va])], 0),
        val_y=np.concatenate([y_all[va], np.zeros(len(g_va), np.int64)]),
        class_weights=(len(y_tr) / (len(classes) * cnt)).astype(np.float32))


def _generic_negatives(ds, y_all, h_all, n_classes: int, o: CustomGestureOptions, rng, say):
    """(keypoints, handedness, dropped): the generic ``none`` hands outside
    every captured gesture's region."""
    n_gen = o.generic_negatives if o.generic_negatives is not None else max(300, len(ds))
    if n_gen <= 0:
        return np.zeros((0, NUM_KEYPOINTS, 3), np.float32), [], 0
    kp, hh, _ = generic_hands(int(n_gen), rng)
    regions = class_regions(batch_keypoint_features(ds.keypoints, h_all), y_all, range(1, n_classes))
    keep = outside_regions(batch_keypoint_features(kp, hh), regions, o.exclude_margin)
    dropped = int((~keep).sum())
    say(f"generic hands for '{NONE_LABEL}': {int(keep.sum())} (synthetic; {dropped} dropped for looking "
        f"like a captured gesture)")
    return kp[keep], [h for h, k in zip(hh, keep) if k], dropped


def _fit(p: _Pools, classes, o: CustomGestureOptions, rng, say):
    """GestureNet trained on fresh augmentations of the training pool
    (class-balanced weights), the best epoch by validation macro-F1 kept."""
    from handsdk.train.config import GestureModelConfig
    from handsdk.train.models.gesture.fit import FitOptions, fit_gesture
    from handsdk.train.tf import set_threads

    set_threads(o.threads)
    mcfg = GestureModelConfig(labels=list(classes), label_set=o.set_name, kind=o.kind, none_label=NONE_LABEL)
    steps = max(1, int(np.ceil(max(o.examples_per_epoch, len(p.train_y)) / o.batch_size)))

    def draw_epoch(ep):
        idx = rng.integers(0, len(p.train_y), steps * o.batch_size)
        x, _ = augment_keypoints(p.train_kp[idx], rng, o.augment, handedness=[p.train_hands[i] for i in idx])
        return x, p.train_y[idx], p.class_weights[p.train_y[idx]]

    return fit_gesture(mcfg, draw_epoch, FitOptions(
        epochs=o.epochs, steps_per_epoch=steps, batch_size=o.batch_size, learning_rate=o.learning_rate,
        label_smoothing=o.label_smoothing, seed=o.seed, shuffle=False, keep="best", patience=o.patience,
        time_budget_s=o.time_budget_s), val=(p.val_x, p.val_y) if len(p.val_y) else None, say=say)


def _convert(model, p: _Pools, quantization: str, rng) -> bytes:
    """The TFLite model (int8: calibrated on 300 training hands)."""
    from handsdk.convert.tflite import keras_to_tflite

    rep = None
    if quantization == "int8":
        calib = batch_keypoint_features(p.train_kp[rng.permutation(len(p.train_kp))[:300]],
                                        None)  # handedness-free is fine for ranges

        def rep():
            for f in calib:
                yield {"keypoints": f[None]}
    return keras_to_tflite(model, quantization, representative_data=rep)


def _evaluate(model, tfl: bytes, p: _Pools, classes, quantization: str, output: Path, report: dict, say) -> dict:
    """The validation split scored as converted (and by Keras), the confusion
    matrix PNG; adds ``validation`` and ``confusion_png`` to ``report``;
    returns the bundle's metrics (empty without validation)."""
    from handsdk.train.metrics import classification_metrics
    from handsdk.train.plots import plot_confusion

    if not len(p.val_y):
        say("no validation split (val_fraction 0): no metrics")
        return {}
    n_cls = len(classes)
    mk = classification_metrics(p.val_y, model.predict(p.val_x, batch_size=512, verbose=0).argmax(1), n_cls,
                                labels=classes)
    s_tfl = _tflite_scores(tfl, p.val_x)
    mt = classification_metrics(p.val_y, s_tfl.argmax(1), n_cls, labels=classes)
    nc = len(p.val)  # the captured part of the validation split (without generic hands)
    mc = classification_metrics(p.val_y[:nc], s_tfl[:nc].argmax(1), n_cls, labels=classes) if nc else None
    png = output.with_name(output.stem + ".confusion.png")
    plot_confusion(np.asarray(mt["confusion_matrix"]), list(classes), png)
    report["validation"] = {"accuracy": mt["accuracy"], "macro_f1": mt["macro_f1"],
                            "per_class_f1": dict(zip(classes, mt["per_class_f1"])),
                            "confusion_matrix": mt["confusion_matrix"], "num_samples": mt["num_samples"],
                            "keras_accuracy": mk["accuracy"],
                            "captured_only_accuracy": mc["accuracy"] if mc else None}
    report["confusion_png"] = str(png)
    say(f"validation ({quantization} TFLite, {len(p.val_y)} samples): accuracy {mt['accuracy']:.3f}, "
        f"macro-F1 {mt['macro_f1']:.3f}" + (f", captured only {mc['accuracy']:.3f}" if mc else "")
        + f"; confusion matrix {png}")
    return {"val_accuracy": round(mt["accuracy"], 4), "val_macro_f1": round(mt["macro_f1"], 4),
            "val_samples": int(len(p.val_y))}


def _write_bundle(base, tfl: bytes, report: dict, metrics: dict, o: CustomGestureOptions, output: Path, say,
                  t_start: float) -> dict:
    """The set written into a copy of the base bundle with its provenance,
    then the report beside it; returns the report."""
    name = o.set_name
    base_sha = _sha256(base.manifest.get("name", "").encode() + b"".join(base.files[k] for k in sorted(base.files)))
    replaced = f"gesture:{name}" in base.models
    info = {"data_folder": report["data_folder"], "samples": report["samples"],
            "generic_negatives": report["generic_negatives"]["used"], "metrics": metrics, "labels": report["labels"],
            "base_bundle": {"name": base.manifest.get("name"), "source": str(base.source), "sha256": base_sha},
            "epochs": report["epochs"], "train_seconds": report["train_seconds"], "seed": o.seed,
            "quantization": o.quantization, "trained": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    role = f"gesture:{name}"
    prov = {"custom_gestures": {name: info},
            "training_data_by_model": {role: [report["data_folder"], "synthetic generic hands (none)"]},
            "metrics": {role: metrics} if metrics else {},
            "sources": {role: report["data_folder"]}}
    old_td = list(base.provenance.get("training_data") or [])
    prov["training_data"] = old_td + [d for d in (report["data_folder"],) if d not in old_td]
    data = extend_bundle(base, name, tfl, report["labels"], output=output, kind=o.kind, none_label=NONE_LABEL,
                         quantization=o.quantization, metrics=metrics, provenance=prov)
    report.update(bundle_bytes=len(data), gesture_sets=sorted(set(base.gesture_sets) | {name}), replaced_set=replaced,
                  seconds=round(time.monotonic() - t_start, 1))
    rp = output.with_name(output.stem + ".report.json")
    rp.write_text(json.dumps(report, indent=1, default=str))
    report["report_json"] = str(rp)
    say(f"wrote {output} ({len(data) / 1024:.0f} KiB; gesture sets {report['gesture_sets']}"
        + (f"; replaced the old '{name}'" if replaced else "") + f") in {report['seconds']:.0f}s")
    return report


def _held_out_sources(feats, y, sources, classes, generic, o: CustomGestureOptions, *, epochs: int, say) -> dict:
    """Leave-one-source-out with the recipe of :mod:`handsdk.train.gesture_eval`
    (class-balanced sampling, label smoothing, the same rotation/scale/jitter;
    no mirroring of features, no synthetic templates): per capture source,
    train on the others (+ the generic ``none`` hands) and score it. Returns
    {source: {n, accuracy, macro_f1, none_precision}} plus ``"mean"``."""
    from handsdk.train.gesture_eval import Recipe, fold_metrics, predict, train_classifier

    aug = o.augment
    r = Recipe(epochs=int(epochs), examples_per_epoch=int(o.examples_per_epoch), batch_size=int(o.batch_size),
               learning_rate=float(o.learning_rate), label_smoothing=float(o.label_smoothing), balance="class",
               rotation_deg=float(aug.rotation_deg), wide_rotation_deg=0.0, thumbs_flip=False,
               scale=tuple(aug.scale), jitter=float(aug.jitter), mirror=False, synth_per_class=0, seed=int(o.seed))
    names = np.array(classes, object)
    out = {}
    for src in sorted(set(sources.tolist())):
        te = sources == src
        if not (~te).any():
            continue
        extra = (generic, np.array(["none"] * len(generic), object)) if generic is not None else None
        model = train_classifier(feats[~te], names[y[~te]], sources[~te], list(classes), r, extra=extra)
        m = fold_metrics(y[te], predict(model, feats[te]).argmax(1), list(classes))
        out[src] = {k: m[k] for k in ("n", "accuracy", "macro_f1", "none_precision") if k in m}
        say(f"held-out source {src!r}: {m['n']} samples, accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}")
    if out:
        out["mean"] = {k: float(np.mean([v[k] for v in out.values()])) for k in ("accuracy", "macro_f1")}
    return out


def train_from_cli(data, base, output, set_name: str = "custom", overrides: dict | None = None,
                   echo: Callable[[str], None] = print) -> dict:
    """`handsdk train gesture --data <folder> --base <bundle> -o my.handsdk
    [--set-name S] [--set epochs=40 --set time_budget_s=90 --set quantization=int8 ...]`. A folder of
    motion takes (``handsdk capture --motion``) trains a motion set
    (:func:`handsdk.train.models.motion.custom.train_custom_motion`)."""
    from handsdk.capture import is_motion_dataset

    motion = data is not None and is_motion_dataset(data)
    if motion:
        from handsdk.train.models.motion.custom import CLI_OPTIONS as MOTION_OPTIONS
    kw = {}
    for k, v in (overrides or {}).items():
        k = {"time_budget": "time_budget_s", "train.epochs": "epochs"}.get(k, k)
        if motion and k not in MOTION_OPTIONS:
            raise CustomTrainingError(f"--set {k}: unknown option for a motion set; known: {', '.join(MOTION_OPTIONS)}")
        if not motion and k not in CLI_OPTIONS:
            raise CustomTrainingError(f"--set {k}: unknown option for custom gestures; known: {', '.join(CLI_OPTIONS)}")
        kw[k] = v
    if output is None:
        raise CustomTrainingError("give the bundle to write: -o my.handsdk")
    if base is None:
        from handsdk.bundle import default_bundle_path

        base = default_bundle_path()
        if base is None:
            raise CustomTrainingError("this install ships no default bundle; give --base <bundle.handsdk>")
    elif not Path(os.fspath(base)).is_file():
        raise CustomTrainingError(f"base bundle not found: {base}")
    if motion:
        from handsdk.train.models.motion.custom import train_custom_motion

        return train_custom_motion(data, base, output, set_name=set_name, progress=echo, **kw)
    rep = train_custom_gestures(data, base, output, CustomGestureOptions(set_name=set_name, **kw), progress=echo)
    v = rep.get("validation") or {}
    if v:
        echo(f"validation accuracy {v['accuracy']:.3f}, macro-F1 {v['macro_f1']:.3f} "
             f"({v['num_samples']} samples); confusion matrix {rep['confusion_png']}; report {rep['report_json']}")
    return rep


__all__ = ["CLI_OPTIONS", "CustomGestureOptions", "CustomTrainingError", "KINDS", "QUANTIZATIONS", "extend_bundle",
           "generic_hands", "temporal_split", "train_custom_gestures", "train_from_cli"]
