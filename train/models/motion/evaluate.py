"""Motion evaluation: per-class precision / recall / F1, macro-F1 over the
classes present, the confusion matrix (PNG)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from handsdk.train import metrics as M
from handsdk.train.plots import plot_confusion


def per_class(cm, labels) -> dict:
    """{label: {precision, recall, f1, n}} from a confusion matrix (rows: true)."""
    cm = np.asarray(cm, np.float64)
    tp = np.diag(cm)
    prec = tp / np.maximum(cm.sum(0), 1e-12)
    rec = tp / np.maximum(cm.sum(1), 1e-12)
    f1 = 2 * prec * rec / np.maximum(prec + rec, 1e-12)
    out = {}
    for i, lab in enumerate(labels):
        if cm[i].sum() == 0 and cm[:, i].sum() == 0:
            continue
        out[str(lab)] = {"precision": round(float(prec[i]), 4) if cm[:, i].sum() else None,
                         "recall": round(float(rec[i]), 4) if cm[i].sum() else None,
                         "f1": round(float(f1[i]), 4), "n": int(cm[i].sum())}
    return out


def classification_report(y_true, y_pred, labels, *, plots_dir=None, tag: str = "", title: str = "") -> dict:
    res = M.classification_metrics(y_true, y_pred, len(labels), labels)
    res["per_class"] = per_class(res["confusion_matrix"], labels)
    if plots_dir is not None:
        png = Path(plots_dir) / f"confusion{tag}.png"
        plot_confusion(np.array(res["confusion_matrix"]), list(labels), png, title=title)
        res["confusion_png"] = str(png)
    return res


def predict_keras(model, X, batch: int = 1024) -> np.ndarray:
    out = []
    for i in range(0, len(X), batch):
        out.append(np.asarray(model(np.asarray(X[i:i + batch], np.float32), training=False)))
    return np.concatenate(out) if out else np.zeros((0, model.output_shape[-1]), np.float32)


def evaluate_pool(model, cfg, pool: dict, labels=None, plots_dir=None) -> dict:
    """The registry's validation metrics of a pool (Keras model)."""
    labels = list(labels or cfg.model.labels)
    p = predict_keras(model, pool["history"]).argmax(-1)
    return classification_report(pool["label"], p, labels, plots_dir=plots_dir)


def evaluate_samples(model, cfg, samples, rng, **_) -> dict:
    raise ValueError("the motion model reads keypoint histories, not image samples: evaluate it with "
                     "python -m handsdk.tools.motion_eval (or handsdk.train.models.motion.train)")
