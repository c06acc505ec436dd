"""The benchmark's presence table: does the landmarker's presence score tell a
hand from a face? On each camera-scene set, the SDK's landmarker (as the
runtime runs it on a detection: the detector's map as skeleton input, two
passes) scores MediaPipe's pseudo-labelled hands (their keypoint boxes) and
the faces OpenCV's Haar cascades find there (``face_worker.py``, in the
MediaPipe environment), each face far from every known hand. Reported: ROC
AUC, and at the bundle's presence threshold for a new hand the share of hands
kept and of faces refused."""
from __future__ import annotations

import numpy as np

from handsdk import metrics as M

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


def presence_rows(bundle, samples: dict, keys: dict, faces: dict, *, threads: int = 2) -> list[dict]:
    """One row per camera-scene set: hands, faces, ROC AUC (hands vs faces),
    hands kept and faces refused at the bundle's ``min_presence_score``.
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
        pos, neg = [], []
        for s, k in zip(ss, keys[name]):
            hands = known_hands(s)
            fs = [f for f in faces.get(k, []) if M.far_from_all(f, hands)]
            kp = pseudo_keypoints(s)
            if s.image is None or (not fs and (kp is None or not len(kp))):
                continue
            d = det.detect_rgb(s.image)
            for one in (kp if kp is not None else []):
                vis = one[:, 2] >= 0
                if vis.any():
                    pos.append(lm.landmark_rgb(s.image, hand_box(one[vis, :2]), detection=d).presence)
            for f in fs:
                neg.append(lm.landmark_rgb(s.image, np.asarray(f, np.float32), detection=d).presence)
        pos_a, neg_a = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
        auc = (M.roc_auc(np.r_[np.ones(len(pos_a)), np.zeros(len(neg_a))], np.r_[pos_a, neg_a])
               if len(pos_a) and len(neg_a) else None)
        rows.append({"set": name, "hands": int(len(pos_a)), "faces": int(len(neg_a)),
                     "auc": None if auc is None or np.isnan(auc) else float(auc), "threshold": thr,
                     "hands_kept": float((pos_a >= thr).mean()) if len(pos_a) else None,
                     "faces_refused": float((neg_a < thr).mean()) if len(neg_a) else None})
    return rows
