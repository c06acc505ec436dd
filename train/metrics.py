"""Metrics shared by training, conversion parity, profiling and the benchmark.

numpy only (no TensorFlow, no scikit-learn). Boxes are (x0, y0, x1, y1)
(their overlap ratios: :mod:`handsdk.boxes`); keypoints are (..., 21, 2+) in
pixels.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from handsdk.boxes import box_inside, box_iou

# ----------------------------------------------------------------- boxes

#: a reported hand is "on" a human box at IoU >= 0.3, or when >= 0.6 of it lies
#: inside the box (sets that draw one box around both hands of a sign)
FOUND_IOU = 0.3
FOUND_INSIDE = 0.6
#: a reported hand is a false hand when it overlaps no reference hand (human
#: box or MediaPipe hand) by IoU >= 0.1 and has < 0.3 of its area inside one
FALSE_IOU = 0.1
FALSE_INSIDE = 0.3


#: hand size classes for "hands found": the human box's longer side over the
#: frame's longer side (a hand at arm's length in a webcam frame is about 1/10)
HAND_SIZES = (("small", 0.0, 0.125), ("medium", 0.125, 0.25), ("large", 0.25, float("inf")))


def hand_size_class(box, frame_hw) -> str:
    """``small``, ``medium`` or ``large`` (:data:`HAND_SIZES`) for a hand box in a
    frame of ``frame_hw`` (height, width) pixels."""
    b = np.asarray(box, np.float64).reshape(4)
    r = max(b[2] - b[0], b[3] - b[1]) / max(float(frame_hw[0]), float(frame_hw[1]), 1.0)
    return next(name for name, lo, hi in HAND_SIZES if lo <= r < hi)


def on_boxes(human_boxes, pred_boxes) -> np.ndarray:
    """(M, N) bool: reported box n is on human box m (IoU >= :data:`FOUND_IOU`
    or the reported box >= :data:`FOUND_INSIDE` inside the human one)."""
    hb = np.asarray(human_boxes, np.float64).reshape(-1, 4)
    pred = np.asarray(pred_boxes, np.float64).reshape(-1, 4)
    return (box_iou(hb, pred) >= FOUND_IOU) | (box_inside(pred, hb).T >= FOUND_INSIDE)


def scene_counts(pred_boxes, human_boxes=None, ref_boxes=None, frame_hw=None) -> dict:
    """Per-image counts of what a user meets in a camera scene.

    ``pred_boxes`` (N, 4): the hands a system reported; ``human_boxes``
    (M, 4) or None: the hands people drew; ``ref_boxes`` (K, 4): other known
    hands (e.g. MediaPipe's). Returns ``humans`` (M), ``found`` (human boxes
    with a reported hand on them: IoU >= :data:`FOUND_IOU` or the hand >=
    :data:`FOUND_INSIDE` inside the box), ``reported`` (N) and ``false`` (reported
    hands overlapping no human or reference hand). With ``frame_hw`` (the
    frame's height, width), also ``by_size``: {size class: [found, humans]}
    (:func:`hand_size_class` of each human box)."""
    pred = np.asarray(pred_boxes, np.float64).reshape(-1, 4)
    hb = np.zeros((0, 4)) if human_boxes is None else np.asarray(human_boxes, np.float64).reshape(-1, 4)
    rb = np.zeros((0, 4)) if ref_boxes is None else np.asarray(ref_boxes, np.float64).reshape(-1, 4)
    on = on_boxes(hb, pred)
    refs = np.concatenate([hb, rb], 0)
    hit = (box_iou(pred, refs) >= FALSE_IOU) | (box_inside(pred, refs) >= FALSE_INSIDE)
    found = on.any(axis=1)  # (M,): False for every human box when nothing was reported
    out = {"humans": int(len(hb)), "found": int(found.sum()),
           "reported": int(len(pred)), "false": int((~hit.any(axis=1)).sum()) if len(refs) else int(len(pred))}
    if frame_hw is not None:
        by = {name: [0, 0] for name, _, _ in HAND_SIZES}
        for b, f in zip(hb, found):
            c = by[hand_size_class(b, frame_hw)]
            c[0] += int(f)
            c[1] += 1
        out["by_size"] = by
    return out


def scene_summary(counts: Sequence[dict]) -> dict:
    """Totals of :func:`scene_counts` over images: ``found_rate`` (found /
    human boxes, None without human boxes), ``false_per_image``, ``images``;
    where the counts have ``by_size``, ``found_by_size``: {size class:
    {"humans", "found_rate" (None without human boxes of that size)}}."""
    humans = sum(c["humans"] for c in counts)
    found = sum(c["found"] for c in counts)
    n = len(counts)
    out = {"images": n, "humans": humans, "found_rate": found / humans if humans else None,
           "false_per_image": sum(c["false"] for c in counts) / n if n else None,
           "images_with_false": sum(c["false"] > 0 for c in counts) / n if n else None}
    sized = [c["by_size"] for c in counts if "by_size" in c]
    if sized:
        out["found_by_size"] = {}
        for name, _, _ in HAND_SIZES:
            f, h = sum(c[name][0] for c in sized), sum(c[name][1] for c in sized)
            out["found_by_size"][name] = {"humans": h, "found_rate": f / h if h else None}
    return out


def _match(pred, scores, gt, iou_thr):
    """Greedy matching by descending score. Returns (tp flags in score order,
    matched IoUs in score order (0 for FP), order)."""
    pred = np.asarray(pred, np.float64).reshape(-1, 4)
    scores = np.asarray(scores, np.float64).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    ious = box_iou(pred[order], gt)
    used = np.zeros(len(gt), bool)
    tp = np.zeros(len(order), bool)
    best = np.zeros(len(order))
    for i in range(len(order)):
        if ious.shape[1] == 0:
            break
        cand = np.where(used, -1.0, ious[i])
        j = int(cand.argmax())
        if cand[j] >= iou_thr:
            used[j] = True
            tp[i] = True
            best[i] = cand[j]
    return tp, best, order


def detection_metrics(preds: Sequence, gts: Sequence, iou_threshold: float = 0.5) -> dict:
    """Detection metrics over a set of images.

    ``preds``: per image a tuple (boxes (N,4), scores (N,)); ``gts``: per image
    (M, 4) boxes. Returns precision, recall, f1 (all predictions kept), ap
    (area under the interpolated precision/recall curve, VOC style, all
    points), mean_iou (mean over ground-truth boxes of the best IoU with any
    prediction, 0 when missed) and counts.
    """
    if len(preds) != len(gts):
        raise ValueError("preds and gts must have one entry per image")
    all_scores, all_tp = [], []
    n_gt = 0
    best_ious = []
    for (pb, ps), gb in zip(preds, gts):
        gb = np.asarray(gb, np.float64).reshape(-1, 4)
        pb = np.asarray(pb, np.float64).reshape(-1, 4)
        ps = np.asarray(ps, np.float64).reshape(-1)
        n_gt += len(gb)
        tp, _, order = _match(pb, ps, gb, iou_threshold)
        all_scores.append(ps[order])
        all_tp.append(tp)
        if len(gb):
            iou = box_iou(gb, pb)
            best_ious.extend(iou.max(axis=1) if iou.shape[1] else np.zeros(len(gb)))
    scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
    tps = np.concatenate(all_tp) if all_tp else np.zeros(0, bool)
    n_tp = int(tps.sum())
    n_pred = int(len(tps))
    precision = n_tp / n_pred if n_pred else 0.0
    recall = n_tp / n_gt if n_gt else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1),
            "ap": float(average_precision(scores, tps, n_gt)),
            "mean_iou": float(np.mean(best_ious)) if best_ious else 0.0,
            "num_gt": int(n_gt), "num_pred": n_pred, "num_tp": n_tp,
            "iou_threshold": float(iou_threshold)}


def average_precision(scores, is_tp, num_gt: int) -> float:
    """AP from scored detections flagged true/false positive (all-point
    interpolation, as VOC 2010+ / COCO per threshold)."""
    scores = np.asarray(scores, np.float64).reshape(-1)
    is_tp = np.asarray(is_tp, bool).reshape(-1)
    if num_gt <= 0:
        return 0.0
    if len(scores) == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(is_tp[order])
    fp = np.cumsum(~is_tp[order])
    rec = tp / num_gt
    prec = tp / np.maximum(tp + fp, 1e-12)
    mrec = np.concatenate([[0.0], rec, [1.0]])
    mpre = np.concatenate([[0.0], prec, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    idx = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1]))


# ----------------------------------------------------------- binary decisions


def roc_auc(labels, scores) -> float:
    """ROC AUC (probability that a positive scores above a negative; ties
    count half). NaN when only one class is present."""
    y = np.asarray(labels).reshape(-1).astype(bool)
    s = np.asarray(scores, np.float64).reshape(-1)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    # rank-based (Mann-Whitney U) with average ranks for ties
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), np.float64)
    ss = s[order]
    i = 0
    while i < len(ss):
        j = i
        while j + 1 < len(ss) and ss[j + 1] == ss[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def roc_curve(labels, scores):
    """(fpr, tpr, thresholds) with thresholds in descending order."""
    y = np.asarray(labels).reshape(-1).astype(bool)
    s = np.asarray(scores, np.float64).reshape(-1)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    distinct = np.r_[np.where(np.diff(s))[0], len(s) - 1] if len(s) else np.zeros(0, int)
    tps = np.cumsum(y)[distinct] if len(s) else np.zeros(0)
    fps = (1 + distinct - tps) if len(s) else np.zeros(0)
    p, n = max(int(y.sum()), 1), max(int((~y).sum()), 1)
    return (np.r_[0.0, fps / n], np.r_[0.0, tps / p], np.r_[np.inf, s[distinct]] if len(s) else np.r_[np.inf])


def binary_metrics(labels, scores, threshold: float = 0.5) -> dict:
    """Hand/NoHand style metrics: accuracy, precision, recall, f1 at
    ``threshold`` (score >= threshold is positive) and ROC AUC."""
    y = np.asarray(labels).reshape(-1).astype(bool)
    s = np.asarray(scores, np.float64).reshape(-1)
    p = s >= threshold
    tp = int((p & y).sum())
    fp = int((p & ~y).sum())
    fn = int((~p & y).sum())
    tn = int((~p & ~y).sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    acc = (tp + tn) / len(y) if len(y) else 0.0
    return {"accuracy": float(acc), "precision": float(prec), "recall": float(rec), "f1": float(f1),
            "auc": roc_auc(y, s), "threshold": float(threshold),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn}


# -------------------------------------------------------------- keypoints

_trapz = getattr(np, "trapezoid", None) or getattr(np, "trapz")


def _kp_arrays(pred, gt, visible):
    pred = np.asarray(pred, np.float64)
    gt = np.asarray(gt, np.float64)
    if pred.ndim == 2:
        pred, gt = pred[None], gt[None]
    if gt.shape[-1] >= 3 and visible is None:
        visible = gt[..., 2] > 0
    if visible is None:
        visible = np.ones(gt.shape[:2], bool)
    visible = np.asarray(visible).reshape(gt.shape[:2]).astype(bool)
    return pred[..., :2], gt[..., :2], visible


def hand_box_size(gt_keypoints, visible=None) -> np.ndarray:
    """Per hand, the larger side of the tight box around the labelled
    keypoints (the PCK normaliser)."""
    gt = np.asarray(gt_keypoints, np.float64)
    if gt.ndim == 2:
        gt = gt[None]
    if visible is None:
        visible = gt[..., 2] > 0 if gt.shape[-1] >= 3 else np.ones(gt.shape[:2], bool)
    visible = np.asarray(visible, bool).reshape(gt.shape[:2])
    out = np.zeros(len(gt))
    for i in range(len(gt)):
        pts = gt[i, visible[i], :2] if visible[i].any() else gt[i, :, :2]
        out[i] = max(float(np.ptp(pts[:, 0])), float(np.ptp(pts[:, 1])), 1e-6)
    return out


def keypoint_errors(pred, gt, visible=None) -> np.ndarray:
    """(N, 21) Euclidean errors; NaN where the keypoint is not labelled."""
    p, g, v = _kp_arrays(pred, gt, visible)
    e = np.linalg.norm(p - g, axis=-1)
    return np.where(v, e, np.nan)


def mean_keypoint_error(pred, gt, visible=None) -> float:
    """Mean Euclidean error (same unit as the inputs, e.g. px at the model
    input resolution) over labelled keypoints."""
    e = keypoint_errors(pred, gt, visible)
    return float(np.nanmean(e)) if np.isfinite(e).any() else float("nan")


def pck(pred, gt, threshold: float = 0.2, visible=None, box_size=None) -> float:
    """Fraction of labelled keypoints within ``threshold`` x hand box size."""
    return float(pck_curve(pred, gt, [threshold], visible=visible, box_size=box_size)[1][0])


def pck_curve(pred, gt, thresholds=None, visible=None, box_size=None):
    """(thresholds, pck values, auc): PCK normalised by the hand box size,
    AUC = mean PCK over the thresholds (normalised area, thresholds 0..max)."""
    if thresholds is None:
        thresholds = np.linspace(0.0, 0.5, 51)
    thresholds = np.asarray(thresholds, np.float64)
    p, g, v = _kp_arrays(pred, gt, visible)
    size = hand_box_size(g, v) if box_size is None else np.asarray(box_size, np.float64).reshape(-1)
    e = np.linalg.norm(p - g, axis=-1) / size[:, None]
    ev = e[v]
    if ev.size == 0:
        vals = np.full(len(thresholds), np.nan)
    else:
        vals = np.array([(ev <= t).mean() for t in thresholds])
    if len(thresholds) > 1 and thresholds[-1] > thresholds[0]:
        auc = float(_trapz(vals, thresholds) / (thresholds[-1] - thresholds[0]))
    else:
        auc = float(vals[0]) if len(vals) else float("nan")
    return thresholds, vals, auc


def keypoint_metrics(pred, gt, visible=None, thresholds=(0.05, 0.1, 0.2)) -> dict:
    """PCK at a few thresholds, PCK AUC over [0, 0.5] and mean error."""
    out = {f"pck@{t:g}": pck(pred, gt, t, visible=visible) for t in thresholds}
    _, _, auc = pck_curve(pred, gt, visible=visible)
    out["pck_auc"] = auc
    out["mean_error"] = mean_keypoint_error(pred, gt, visible)
    return out


# -------------------------------------------------------------- classes


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """(C, C) counts, rows = true class, columns = predicted class."""
    t = np.asarray(y_true, np.int64).reshape(-1)
    p = np.asarray(y_pred, np.int64).reshape(-1)
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), p.max(initial=-1)) + 1)
    cm = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def classification_metrics(y_true, y_pred, num_classes: int | None = None, labels=None) -> dict:
    """Accuracy, macro-F1 (over classes present in y_true or y_pred),
    per-class F1 and the confusion matrix (as nested lists)."""
    t = np.asarray(y_true, np.int64).reshape(-1)
    p = np.asarray(y_pred, np.int64).reshape(-1)
    if num_classes is None:
        num_classes = len(labels) if labels is not None else None
    cm = confusion_matrix(t, p, num_classes)
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(0) - tp
    fn = cm.sum(1) - tp
    denom = 2 * tp + fp + fn
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1e-12), 0.0)
    present = (cm.sum(0) + cm.sum(1)) > 0
    out = {"accuracy": float((t == p).mean()) if len(t) else 0.0,
           "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
           "per_class_f1": [float(x) for x in f1],
           "confusion_matrix": cm.tolist(), "num_samples": int(len(t))}
    if labels is not None:
        out["labels"] = [str(x) for x in labels]
    return out


def far_from_all(box, boxes, max_iou: float = 0.02, max_inside: float = 0.05) -> bool:
    """True when ``box`` neither overlaps any of ``boxes`` (IoU under
    ``max_iou``) nor holds or lies in one (each side's share inside the other
    under ``max_inside``): a region that surely shows none of those hands (a
    face as a presence negative, mined or measured)."""
    hands = np.asarray(boxes, np.float32).reshape(-1, 4)
    if not len(hands):
        return True
    b = np.asarray(box, np.float32).reshape(1, 4)
    return bool((box_iou(b, hands) < max_iou).all() and (box_inside(b, hands) < max_inside).all()
                and (box_inside(hands, b) < max_inside).all())
