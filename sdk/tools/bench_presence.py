"""The benchmark's presence table: does the landmarker's presence score tell a
hand from a face? On each camera-scene set, the SDK's landmarker (as the
runtime runs it on a detection: the detector's map as skeleton input, two
passes) scores MediaPipe's pseudo-labelled hands (their keypoint boxes) and
the faces OpenCV's Haar cascades find there (:mod:`handsdk.train.mediapipe`, in the
MediaPipe environment), each face far from every known hand; also forearm
crops (a hand-sized box beyond each wrist, away from the knuckles) and
background crops (hand-sized boxes far from every hand, face and forearm).
Reported: ROC AUC of hands against each, and at the bundle's presence
threshold for a new hand the share of hands kept and of each refused."""
from __future__ import annotations

import numpy as np

from handsdk.boxes import box_inside
from handsdk.train import metrics as M

from .bench_samples import SCENE_SETS, human_boxes, pseudo_keypoints


def face_keys(keys: dict) -> list[str]:
    """The frames of the camera-scene sets, where faces are looked for."""
    return [k for name, ks in keys.items() if name in SCENE_SETS for k in ks]


def known_hands(sample) -> np.ndarray:
    """Every hand box known for a frame: MediaPipe's pseudo-labels (keypoint
    boxes) and human-drawn boxes."""
    from handsdk.stages import hand_box

    out = []
    kp = pseudo_keypoints(sample)
    for k in (kp if kp is not None else []):
        vis = k[:, 2] >= 0
        if vis.any():
            out.append(hand_box(k[vis, :2]))
    hb = human_boxes(sample)
    if hb is not None and len(hb):
        out += list(np.asarray(hb, np.float32).reshape(-1, 4))
    return np.asarray(out, np.float32).reshape(-1, 4)


#: a forearm crop: a square of the hand box's longer side, its centre this many of
#: those sides beyond the wrist, away from the middle knuckle
FOREARM_OFFSET = 0.9
#: background crops per frame (where that many fit far from everything known)
BACKGROUND_PER_FRAME = 2


def forearm_boxes(kps, frame_hw) -> list[np.ndarray]:
    """A hand-sized box on each hand's forearm: beyond the wrist, away from
    the middle knuckle (MediaPipe order: 0 wrist, 9 middle knuckle), kept
    when at least 80% of it lies in the frame."""
    from handsdk.keypoints import keypoints_box

    h, w = frame_hw[:2]
    out = []
    for k in (kps if kps is not None else []):
        if k[0, 2] < 0 or k[9, 2] < 0:
            continue
        d = k[0, :2] - k[9, :2]
        n = float(np.hypot(*d))
        if n < 1e-3:
            continue
        b = keypoints_box(k[k[:, 2] >= 0, :2])
        side = float(max(b[2] - b[0], b[3] - b[1]))
        c = k[0, :2] + d / n * FOREARM_OFFSET * side
        box = np.array([c[0] - side / 2, c[1] - side / 2, c[0] + side / 2, c[1] + side / 2], np.float32)
        if box_inside(box, [0, 0, w, h])[0, 0] >= 0.8:
            out.append(box)
    return out


def background_boxes(frame_hw, avoid, side: float, rng, n: int = BACKGROUND_PER_FRAME,
                     tries: int = 40) -> list[np.ndarray]:
    """Up to ``n`` squares of ``side`` inside the frame, far from every box in
    ``avoid`` (:func:`handsdk.train.metrics.far_from_all`) and from each other."""
    h, w = frame_hw[:2]
    side = float(min(side, w, h))
    out: list[np.ndarray] = []
    for _ in range(tries):
        if len(out) >= n:
            break
        x0, y0 = rng.uniform(0, w - side), rng.uniform(0, h - side)
        b = np.array([x0, y0, x0 + side, y0 + side], np.float32)
        if M.far_from_all(b, list(avoid) + out):
            out.append(b)
    return out


def _auc(pos: np.ndarray, neg: np.ndarray) -> float | None:
    if not len(pos) or not len(neg):
        return None
    a = M.roc_auc(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg])
    return None if np.isnan(a) else float(a)


def presence_rows(bundle, samples: dict, keys: dict, faces: dict, *, threads: int = 2) -> list[dict]:
    """One row per camera-scene set: hands, faces, ROC AUC (hands vs faces),
    hands kept and faces refused at the bundle's ``min_presence_score``; the
    same for forearm and background crops (``forearms``, ``auc_forearms``,
    ``forearms_refused``, ``background``, ...).
    ``faces``: {frame key: [face box, ...]} (pixels of the frame)."""
    from handsdk.stages import HandDetector, HandLandmarker, _bundle, hand_box

    b = _bundle(bundle)
    thr = float(b.thresholds.get("min_presence_score", 0.5))
    det = HandDetector(b, num_threads=threads, color_order="RGB")
    lm = HandLandmarker(b, num_threads=threads, color_order="RGB")
    rows = []
    for name, ss in samples.items():
        if name not in SCENE_SETS:
            continue
        pos, neg = [], {"faces": [], "forearms": [], "background": []}
        rng = np.random.default_rng(0)  # (the same background boxes for every bundle)
        for s, k in zip(ss, keys[name]):
            if s.image is None:
                continue
            hands = known_hands(s)
            fs = [f for f in faces.get(k, []) if M.far_from_all(f, hands)]
            kp = pseudo_keypoints(s)
            arms = [a for a in forearm_boxes(kp, s.image.shape) if M.far_from_all(a, hands)]
            sides = [max(h[2] - h[0], h[3] - h[1]) for h in hands]
            side = float(np.median(sides)) if sides else min(s.image.shape[:2]) / 4
            avoid = list(hands) + [np.asarray(f, np.float32) for f in faces.get(k, [])] + arms
            crops = {"faces": [np.asarray(f, np.float32) for f in fs], "forearms": arms,
                     "background": background_boxes(s.image.shape, avoid, side, rng)}
            d = det.detect_rgb(s.image)
            for one in (kp if kp is not None else []):
                vis = one[:, 2] >= 0
                if vis.any():
                    pos.append(lm.landmark_rgb(s.image, hand_box(one[vis, :2]), detection=d).presence)
            for kind, boxes in crops.items():
                neg[kind] += [lm.landmark_rgb(s.image, box, detection=d).presence for box in boxes]
        pos_a = np.asarray(pos, np.float64)
        row = {"set": name, "hands": int(len(pos_a)), "threshold": thr,
               "hands_kept": float((pos_a >= thr).mean()) if len(pos_a) else None}
        for kind, v in neg.items():
            a = np.asarray(v, np.float64)
            row[kind] = int(len(a))
            row["auc" if kind == "faces" else f"auc_{kind}"] = _auc(pos_a, a)
            row[f"{kind}_refused"] = float((a < thr).mean()) if len(a) else None
        rows.append(row)
    return rows
