"""End-to-end evaluation of a bundle on labelled samples: what ``handsdk
profile --data``, ``handsdk build-default`` and :mod:`handsdk.train.compare`
report (the Keras models' own evaluation is :mod:`handsdk.train.evaluate`).

Samples are :class:`handsdk.train.data.sample.Sample`-like objects (image RGB,
boxes, keypoints (N, 21, 3) with visibility, keypoint_source, label,
label_set); only numpy is needed here.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from handsdk.boxes import box_iou
from handsdk.keypoints import keypoints_box

from . import metrics as M


def _gt_boxes(s) -> np.ndarray:
    if len(s.boxes):
        return np.asarray(s.boxes, np.float32)
    if len(s.keypoints):
        return np.array([keypoints_box(k[:, :2], k[:, 2] > 0) for k in s.keypoints], np.float32)
    return np.zeros((0, 4), np.float32)


def _on_box(box, boxes) -> int | None:
    """The index of the box of ``boxes`` that is on ``box`` by the found rule of
    :func:`~handsdk.train.metrics.scene_counts` (IoU or the share inside), the
    best IoU first; None."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if not len(boxes):
        return None
    b = np.asarray(box, np.float64)[None]
    iou = box_iou(b, boxes)[0]
    on = M.on_boxes(b, boxes)[0]
    if not on.any():
        return None
    return int(np.argmax(np.where(on, iou, -1.0)))


def _commands_per_hand(recognizer, s, r, table: dict, gesture_set: str) -> list:
    """(truth, SDK's command, the command of the same GestureNet on MediaPipe's
    keypoints) for each human box of ``s`` whose class ``table`` maps to a
    command; a hand the SDK (or MediaPipe) did not find has None. A class of
    "3?" (three fingers, ``three`` or ``ok`` by the thumb) is read off
    MediaPipe's hand (:func:`~handsdk.train.data.gestures.thumb_index_ring`);
    without one it is left out."""
    from handsdk.train.data.gestures import thumb_index_ring

    hb = s.extras.get("human_boxes")
    classes = s.extras.get("human_classes") or []
    if hb is None or not len(classes):
        return []
    labels = recognizer.classifiers[gesture_set].labels
    refs = [keypoints_box(k[:, :2], k[:, 2] > 0) for k in s.keypoints]
    mine = [keypoints_box(h.keypoints[:, :2]) for h in r.hands]
    out = []
    for box, c in zip(np.asarray(hb, np.float32).reshape(-1, 4), classes):
        truth = table.get(str(c))
        if truth is None:
            continue
        j = _on_box(box, refs)
        if truth == "3?":
            if j is None:
                continue
            truth = "ok" if bool(thumb_index_ring(s.keypoints[j][None])[0]) else "three"
        if truth not in labels:
            continue
        k = _on_box(box, mine)
        sdk = None if k is None else r.hands[k].gestures[gesture_set][0].name
        mp = None
        if j is not None:
            handed = s.handedness[j] if s.handedness and j < len(s.handedness) else None
            mp = recognizer.classify_keypoints(s.keypoints[j][:, :2], handed)[gesture_set][0].name
        out.append((truth, sdk, mp))
    return out


def evaluate(recognizer, samples: Iterable, *, gesture_set: str | None = None,
             landmark_on_gt_box: bool = True, progress: Callable[[int], None] | None = None,
             commands: dict | None = None, commands_set: str = "commands") -> dict:
    """Run ``recognizer`` (IMAGE mode, color_order RGB) on every sample.

    Returns detection (rate, AP, P/R/F1, mean IoU at 0.5), keypoints end to end
    (GT hand matched to the predicted hand with the best box IoU; PCK at 0.1
    and 0.2 of the hand-box size, mean error in px, per keypoint source) and,
    with ``landmark_on_gt_box``, the landmarker alone on the GT box (the pose
    model's share), and gesture accuracy where the sample's label belongs to
    ``gesture_set`` (end to end, first hand).

    ``commands`` (a scene set's class -> command table,
    :data:`~handsdk.train.data.gestures.SCENE_COMMANDS`): the ``commands_set``
    gesture of every human-boxed hand end to end, beside the same GestureNet
    on MediaPipe's keypoints of that hand (``commands_per_hand``: accuracy of
    each over the same hands, a hand not found counted wrong, and over the hands
    both found)."""
    preds, gts = [], []
    scene: list = []  # camera-scene counts (samples that carry the boxes people drew)
    n_with_hand = n_found = 0
    kp_pred, kp_gt, kp_src = [], [], []
    kp_pred_box, kp_gt_box, kp_src_box = [], [], []
    g_true, g_pred, g_labels = [], [], None
    per_hand: list = []
    if commands is not None and commands_set not in recognizer.classifiers:
        commands = None  # (a bundle without that set)
    clf = recognizer.classifiers.get(gesture_set) if gesture_set else None
    if clf is not None:
        g_labels = list(clf.labels)
    for i, s in enumerate(samples):
        if s.image is None:
            continue
        r = recognizer.recognize(s.image)
        pb = np.array([h.box for h in r.hands], np.float32).reshape(-1, 4)
        ps = np.array([h.presence if h.detection_score is None else h.detection_score for h in r.hands],
                      np.float32)
        gb = _gt_boxes(s)
        if "human_boxes" in getattr(s, "extras", {}):
            hb = s.extras["human_boxes"]
            if hb is not None:
                gb = np.asarray(hb, np.float32).reshape(-1, 4)
            kb = np.array([keypoints_box(h.keypoints[:, :2]) for h in r.hands], np.float32).reshape(-1, 4)
            refs = np.array([keypoints_box(k[:, :2]) for k in s.keypoints], np.float32).reshape(-1, 4)
            scene.append(M.scene_counts(kb, hb, refs, frame_hw=s.image.shape[:2]))
        det = None
        preds.append((pb, ps))
        gts.append(gb)
        if len(gb):
            n_with_hand += 1
            n_found += int(len(r.hands) > 0)
        for j, gk in enumerate(s.keypoints):
            if not (gk[:, 2] > 0).any():
                continue
            gbox = keypoints_box(gk[:, :2], gk[:, 2] > 0)
            if len(r.hands):
                ious = box_iou(gbox[None], pb)[0]
                k = int(np.argmax(ious))
                if ious[k] > 0.1:
                    kp_pred.append(r.hands[k].keypoints[:, :2])
                    kp_gt.append(gk)
                    kp_src.append(s.keypoint_source)
            if landmark_on_gt_box:
                if det is None:  # the detector's skeleton map guides the landmarker, as in the pipeline
                    det = recognizer.detector.detect_rgb(s.image)
                lm = recognizer.landmarker.landmark_rgb(s.image, gbox, detection=det)
                kp_pred_box.append(lm.keypoints[:, :2])
                kp_gt_box.append(gk)
                kp_src_box.append(s.keypoint_source)
        if commands is not None:
            per_hand += _commands_per_hand(recognizer, s, r, commands, commands_set)
        if clf is not None and s.label is not None and s.label in g_labels:
            g_true.append(g_labels.index(s.label))
            if r.hands:
                g_pred.append(g_labels.index(r.hands[0].gestures[gesture_set][0].name))
            else:
                g_pred.append(-1)  # no hand: counted wrong
        if progress:
            progress(i + 1)
    out: dict = {"images": len(preds), "images_with_hands": n_with_hand,
                 "detection_rate": (n_found / n_with_hand) if n_with_hand else float("nan")}
    if preds:
        det = M.detection_metrics(preds, gts)
        out["detection"] = {k: det[k] for k in ("ap", "precision", "recall", "f1", "mean_iou") if k in det}
    if scene:
        out["scene"] = M.scene_summary(scene)
    out["keypoints_end_to_end"] = _kp_summary(kp_pred, kp_gt, kp_src)
    out["keypoints_end_to_end"]["hands_matched"] = len(kp_pred)
    if landmark_on_gt_box:
        out["keypoints_on_gt_box"] = _kp_summary(kp_pred_box, kp_gt_box, kp_src_box)
    if commands is not None:
        out["commands_per_hand"] = _per_hand_summary(per_hand, commands_set)
    if clf is not None:
        if g_true:
            t, p = np.array(g_true), np.array(g_pred)
            out["gesture"] = {"set": gesture_set, "samples": len(t), "accuracy": float((t == p).mean()),
                              "no_hand": int((p < 0).sum())}
        else:
            out["gesture"] = {"set": gesture_set, "samples": 0}
    return out


def _per_hand_summary(rows: list, gesture_set: str) -> dict:
    out = {"set": gesture_set, "hands": len(rows)}
    if not rows:
        return out
    truth = np.array([t for t, _, _ in rows], object)
    sdk = np.array([p for _, p, _ in rows], object)
    mp = np.array([q for _, _, q in rows], object)
    both = np.array([p is not None and q is not None for _, p, q in rows])
    out.update(sdk_accuracy=float((sdk == truth).mean()), mediapipe_accuracy=float((mp == truth).mean()),
               sdk_found=int(sum(p is not None for p in sdk)), mediapipe_found=int(sum(q is not None for q in mp)),
               both_found=int(both.sum()))
    if both.any():
        out.update(sdk_accuracy_both_found=float((sdk[both] == truth[both]).mean()),
                   mediapipe_accuracy_both_found=float((mp[both] == truth[both]).mean()))
    return out


def _kp_summary(pred, gt, src) -> dict:
    if not pred:
        return {"hands": 0}
    pred, gt = np.array(pred), np.array(gt)
    res = {"hands": len(pred)}
    for source in sorted(set(src)) + ["all"]:
        m = np.array([s == source for s in src]) if source != "all" else np.ones(len(src), bool)
        if not m.any():
            continue
        km = M.keypoint_metrics(pred[m], gt[m], thresholds=(0.1, 0.2))
        res[source] = {"hands": int(m.sum()), "pck@0.1": km["pck@0.1"], "pck@0.2": km["pck@0.2"],
                       "mean_error_px": km["mean_error"]}
    return res
