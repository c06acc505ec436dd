"""Fitting a GestureNet on freshly drawn epochs: the one training loop of
custom gestures (:mod:`handsdk.train.custom`) and the held-out evaluation
(:mod:`handsdk.train.gesture_eval`). Cosine-decayed Adam, label smoothing,
one ``draw_epoch`` per epoch (resampled and augmented by the caller), the
best epoch by validation macro-F1 kept or the last one, optional early stop
and time budget. TensorFlow loads when :func:`fit_gesture` is called.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from handsdk.checks import check_bool, check_choice, check_int, check_range

KEEP = ("best", "last")


@dataclass(frozen=True)
class FitOptions:
    """How :func:`fit_gesture` trains."""

    epochs: int = 40
    steps_per_epoch: int = 64  # batches per drawn epoch (the decay runs over epochs x steps)
    batch_size: int = 128
    learning_rate: float = 3e-3
    label_smoothing: float = 0.0
    seed: int = 0  # Keras' seed (weights, dropout, shuffling)
    shuffle: bool = True  # Keras shuffles each drawn epoch
    #: "best": the epoch with the best validation macro-F1 (ties: lower validation loss; without
    #: validation: the lowest training loss); "last": the last epoch
    keep: str = "best"
    patience: int | None = None  # stop once validation has not improved for this many epochs (from epoch 5)
    time_budget_s: float | None = None  # stop after the epoch that passes it

    def __post_init__(self):
        for name in ("epochs", "steps_per_epoch", "batch_size"):
            check_int(name, getattr(self, name), 1)
        check_int("seed", self.seed, 0)
        check_range("learning_rate", self.learning_rate, 0, lo_open=True, note="e.g. 3e-3")
        check_range("label_smoothing", self.label_smoothing, 0, 1, note="e.g. 0.1")
        check_bool("shuffle", self.shuffle)
        check_choice("keep", self.keep, KEEP)
        if self.patience is not None:
            check_int("patience", self.patience, 0, note="epochs; None: no early stop")
        if self.time_budget_s is not None:
            check_range("time_budget_s", self.time_budget_s, 0, note="seconds; None: no budget")


@dataclass
class FitResult:
    """The trained model (the kept epoch's weights) and its history: one
    record per epoch (loss, acc; val_loss, val_acc, val_f1 with validation;
    seconds since the start)."""

    model: object
    history: list = field(default_factory=list)
    best_epoch: int = 0
    epochs: int = 0  # epochs run
    seconds: float = 0.0


def fit_gesture(model_cfg, draw_epoch: Callable, options: FitOptions, *, val=None, build=None,
                say: Callable[[str], None] | None = None) -> FitResult:
    """Build the model of ``model_cfg`` (a
    :class:`handsdk.train.config.GestureModelConfig`; its ``labels`` are the
    classes) with ``build(model_cfg, num_classes)`` (default: GestureNet,
    :func:`.model.build_gesture`) and train it. ``draw_epoch(epoch)`` ->
    (features (N, 21, 2), class indices (N,), sample weights (N,) or None);
    ``val``: (features, class indices) scored after every epoch."""
    from handsdk.train.tf import keras

    o = options
    keras.utils.set_random_seed(o.seed)
    n_cls = len(model_cfg.labels)
    title = "GestureNet" if build is None else None
    if build is None:
        from .model import build_gesture as build
    model = build(model_cfg, n_cls)
    sched = keras.optimizers.schedules.CosineDecay(o.learning_rate, max(1, o.epochs * o.steps_per_epoch), alpha=0.05)
    eye = np.eye(n_cls, dtype=np.float32)  # one-hot targets: label smoothing
    model.compile(keras.optimizers.Adam(sched),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=float(o.label_smoothing)),
                  weighted_metrics=["accuracy"])
    say = say or (lambda s: None)
    say(f"{title or model.name}: {n_cls} classes {list(model_cfg.labels)}, {model.count_params()} "
        f"parameters; up to {o.epochs} epochs" + (f" or {o.time_budget_s:.0f}s" if o.time_budget_s is not None else ""))
    res = FitResult(model)
    best = {"f1": -1.0, "loss": np.inf, "weights": None}
    t0 = time.monotonic()
    stale = 0
    for ep in range(1, o.epochs + 1):
        x, y, w = draw_epoch(ep)
        h = model.fit(x, eye[y], sample_weight=w, batch_size=o.batch_size, epochs=1, verbose=0, shuffle=o.shuffle)
        rec = {"epoch": ep, "loss": float(h.history["loss"][-1]), "acc": float(h.history["accuracy"][-1])}
        if _score(model, rec, val, best):
            best.update(f1=rec.get("val_f1", -1.0), loss=rec.get("val_loss", rec["loss"]))
            if o.keep == "best":
                best["weights"] = model.get_weights()
                res.best_epoch = ep
            stale = 0
        else:
            stale += 1
        rec["seconds"] = round(time.monotonic() - t0, 2)
        res.history.append(rec)
        res.epochs = ep
        say(_epoch_line(rec, o, time.monotonic() - t0))
        if o.time_budget_s is not None and time.monotonic() - t0 > o.time_budget_s:
            say(f"time budget of {o.time_budget_s:.0f}s reached")
            break
        if o.patience is not None and stale >= o.patience and ep >= 5:
            say(f"validation has not improved for {o.patience} epochs; stopping")
            break
    res.seconds = time.monotonic() - t0
    if o.keep == "last":
        res.best_epoch = res.epochs
    elif best["weights"] is not None:
        model.set_weights(best["weights"])
    return res


def _score(model, rec: dict, val, best: dict) -> bool:
    """Adds the validation loss / accuracy / macro-F1 to ``rec``; whether the
    epoch beats ``best`` (macro-F1, then loss; the training loss without
    validation)."""
    if val is None or not len(val[1]):
        return rec["loss"] < best["loss"]
    from handsdk.train.metrics import classification_metrics

    xv, yv = val
    p = model.predict(xv, batch_size=512, verbose=0)
    vl = float(np.mean(-np.log(np.maximum(p[np.arange(len(yv)), yv], 1e-7))))
    m = classification_metrics(yv, p.argmax(1), p.shape[1])
    rec.update(val_loss=vl, val_acc=m["accuracy"], val_f1=m["macro_f1"])
    return (m["macro_f1"] > best["f1"] + 1e-6) or (abs(m["macro_f1"] - best["f1"]) <= 1e-6 and vl < best["loss"])


def _epoch_line(rec: dict, o: FitOptions, elapsed: float) -> str:
    frac = rec["epoch"] / o.epochs
    if o.time_budget_s is not None:
        frac = max(frac, min(1.0, elapsed / max(o.time_budget_s, 1e-9)))
    bar = "#" * int(round(20 * frac))
    return (f"epoch {rec['epoch']}/{o.epochs} [{bar:<20}]: loss {rec['loss']:.3f} acc {rec['acc']:.3f}"
            + (f" | val loss {rec['val_loss']:.3f} acc {rec['val_acc']:.3f} macro-F1 {rec['val_f1']:.3f}"
               if "val_acc" in rec else "") + f" ({rec['seconds']:.1f}s)")


__all__ = ["FitOptions", "FitResult", "fit_gesture"]
