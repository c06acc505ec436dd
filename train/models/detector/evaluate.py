"""Detector evaluation: box IoU, P/R/F1 at IoU 0.5, AP, what a user meets
(found hands, false hands per image) and Hand/NoHand accuracy/P/R/F1/ROC
AUC by skeleton mass; decoding = :func:`handsdk.decode.skeleton_to_boxes`,
exactly as the runtime."""
from __future__ import annotations

import numpy as np

from handsdk.boxes import box_iou
from handsdk.decode import DetectorDecoding, skeleton_to_boxes
from handsdk.keypoints import keypoints_box
from handsdk.train import metrics as M
from handsdk.train.evaluate import predict


def _unpadded(boxes) -> np.ndarray:
    """The real boxes of one image's padded (k, 4) rows (padding rows are -1)."""
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    return b[(b >= 0).all(axis=1) & (b[:, 2] > b[:, 0])]


def evaluate_detector(model, images, gt_boxes, *, decoding: dict | None = None, batch_size: int = 32,
                      ref_boxes=None, keypoints=None) -> dict:
    """``images`` (N, H, W, 3) uint8 model-sized frames; ``gt_boxes`` (N, k, 4)
    in model pixels (rows of -1 are padding); ``ref_boxes`` (N, j, 4): other
    known hands (MediaPipe's), so that a hand people did not box is not
    counted as a false hand.

    Besides AP@0.5 (on the boxes' own extent), what a user meets:
    ``found03`` (human boxes with a reported hand on them, see
    :func:`handsdk.train.metrics.scene_counts`), ``false_per_image`` and
    ``scene_score`` = found03 - false_per_image (the model-selection measure:
    the steadier of the two across epochs); ``found03_small`` / ``_medium`` /
    ``_large`` by the human box's size in the frame
    (:data:`handsdk.train.metrics.HAND_SIZES`; nan where there is none).

    With an ``anchors`` output and ``keypoints`` (N, k, 21, 3) model pixels:
    the angle a new hand's crop gets from them (:func:`angle_metrics`)."""
    dec = DetectorDecoding.from_dict(decoding).as_dict()
    out_maps = predict(model, {"image": images.astype(np.float32) / 255.0}, batch_size)
    skel = out_maps["skeleton"][..., 0]
    preds, gts, hand_y, hand_score, hand_found = [], [], [], [], []
    for i in range(len(images)):
        found = skeleton_to_boxes(skel[i], max_hands=2, **dec)
        preds.append((np.array([f.box for f in found], np.float32).reshape(-1, 4),
                      np.array([f.score for f in found], np.float32)))
        g = _unpadded(gt_boxes[i])
        gts.append(g)
        hand_y.append(len(g) > 0)
        s = skel[i]
        hand_score.append(float(s[s >= dec["threshold"]].sum()))
        hand_found.append(float(len(found) > 0))
    out = M.detection_metrics(preds, gts, 0.5)
    sc = M.scene_summary([M.scene_counts(pb, gts[i], None if ref_boxes is None else _unpadded(ref_boxes[i]),
                                         frame_hw=images.shape[1:3])
                          for i, (pb, _) in enumerate(preds)])
    out["found03"] = sc["found_rate"] if sc["found_rate"] is not None else 0.0
    for size, v in sc["found_by_size"].items():  # hands found by size (nan: none of that size)
        out[f"found03_{size}"] = float("nan") if v["found_rate"] is None else v["found_rate"]
    out["false_per_image"] = sc["false_per_image"] or 0.0
    out["scene_score"] = out["found03"] - out["false_per_image"]
    hb = M.binary_metrics(hand_y, hand_found, 0.5)
    out.update({f"hand_{k}": v for k, v in hb.items() if k in ("accuracy", "precision", "recall", "f1")})
    out["hand_auc"] = M.roc_auc(hand_y, hand_score)
    out["iou"] = out["mean_iou"]
    if "anchors" in out_maps and keypoints is not None:
        out.update(angle_metrics(out_maps["anchors"], [p for p, _ in preds], keypoints, skel.shape[1:3],
                                 min_peak=float((decoding or {}).get("anchor_min_peak", 0.3))))
    return out


def angle_metrics(anchors, pred_boxes, keypoints, map_hw, *, min_peak: float = 0.3) -> dict:
    """How well the detector's anchors turn a new hand upright: for every
    hand with a known angle (:func:`handsdk.keypoints.hand_rotation` of its
    keypoints) whose keypoint box a predicted box covers (IoU >= 0.3), the
    angle :func:`handsdk.decode.anchor_rotation` reads in that box.
    ``angle_ok30``: share of those hands within 30 degrees (no angle read
    counts as a miss), ``angle_read``: share with an angle read,
    ``angle_err_deg``: median error where read."""
    from handsdk.decode import anchor_rotation
    from handsdk.keypoints import angle_error_deg, has_hand_rotation, hand_rotation

    errs, n = [], 0
    for i in range(len(pred_boxes)):
        a = anchors[i]
        sy, sx = a.shape[0] / map_hw[0], a.shape[1] / map_hw[1]
        for kp in np.asarray(keypoints[i]).reshape(-1, 21, 3):
            vis = kp[:, 2] >= 0
            if not vis.any() or not has_hand_rotation(vis):
                continue
            ious = box_iou(keypoints_box(kp[:, :2], vis), pred_boxes[i]).reshape(-1)
            if not ious.size or ious.max() < 0.3:
                continue
            n += 1
            b = np.asarray(pred_boxes[i]).reshape(-1, 4)[int(np.argmax(ious))]
            r = anchor_rotation(a, (b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy), min_peak=min_peak)
            errs.append(np.inf if r is None else angle_error_deg(r, hand_rotation(kp, vis)))
    e = np.asarray(errs, np.float64)
    read = e[np.isfinite(e)]
    return {"angle_ok30": float((e <= 30).mean()) if n else float("nan"),
            "angle_read": float(np.isfinite(e).mean()) if n else float("nan"),
            "angle_err_deg": float(np.median(read)) if read.size else float("nan"),
            "angle_hands": float(n)}


def _boxes_from_keypoints(kps):
    out = np.full(kps.shape[:2] + (4,), -1.0, np.float32)
    for i in range(kps.shape[0]):
        for j in range(kps.shape[1]):
            kp = kps[i, j]
            if (kp[:, 2] >= 0).any():
                out[i, j] = keypoints_box(kp[:, :2], kp[:, 2] >= 0)
    return out


def evaluate_pool(model, cfg, pool: dict, labels=None, plots_dir=None) -> dict:
    """The validation metrics of a trainer pool (the drawn boxes when the
    pool has them, the keypoints' boxes as the other known hands)."""
    m = cfg.model
    boxes = pool.get("boxes")
    refs = _boxes_from_keypoints(pool["keypoints"])
    if boxes is None:
        boxes = refs
    return evaluate_detector(model, pool["image"], boxes, decoding=vars(m), ref_boxes=refs,
                             keypoints=pool["keypoints"])


def evaluate_samples(model, cfg, samples, rng, *, meta: dict, plots_dir=None, tag: str = "", **_) -> dict:
    """The metrics of one evaluation source's samples (decoding from the
    model's metadata, else the config)."""
    from .examples import detector_pool, letterboxed_boxes

    m = cfg.model
    pool = detector_pool(samples, m.input_height, m.input_width)
    boxes = letterboxed_boxes(samples, m.input_height, m.input_width)
    return evaluate_detector(model, pool["image"], boxes, decoding=meta.get("decoding") or vars(m),
                             keypoints=pool["keypoints"])
