"""GestureNet evaluation: accuracy, macro-F1, confusion matrix (PNG)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from handsdk.train import metrics as M
from handsdk.train.plots import plot_confusion
from handsdk.train.evaluate import predict


def evaluate_gesture(model, features, labels, names=None, *, plots_dir=None, tag: str = "") -> dict:
    scores = predict(model, {"keypoints": np.asarray(features, np.float32)})["scores"]
    pred = scores.argmax(-1)
    n = scores.shape[-1]
    res = M.classification_metrics(labels, pred, n, names)
    if plots_dir is not None:
        plot_confusion(np.array(res["confusion_matrix"]), names or [str(i) for i in range(n)],
                       Path(plots_dir) / f"confusion{tag}.png")
    return res


def evaluate_pool(model, cfg, pool: dict, labels=None, plots_dir=None) -> dict:
    """The validation metrics of a trainer pool."""
    return evaluate_gesture(model, pool["keypoints"], pool["label"], labels, plots_dir=plots_dir)


def evaluate_samples(model, cfg, samples, rng, *, meta: dict, plots_dir=None, tag: str = "", **_) -> dict:
    """The metrics of one evaluation source's samples on the model's labels
    (samples of other labels are counted as ``skipped_unknown_labels``)."""
    from .examples import gesture_pool

    names = meta.get("labels") or list(cfg.model.labels)
    feats, labs = gesture_pool(samples, None)
    idx = {x: i for i, x in enumerate(names)}
    keep = np.array([x in idx for x in labs], bool)
    res = evaluate_gesture(model, feats[keep], np.array([idx[x] for x in labs[keep]]), names,
                           plots_dir=plots_dir, tag=tag)
    res["skipped_unknown_labels"] = int((~keep).sum())
    return res
