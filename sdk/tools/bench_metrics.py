"""The numbers of ``handsdk bench``: per-frame hands of both systems
turned into hands found, camera-scene counts (found on the human box, false
hands), keypoint accuracy and agreement, gesture accuracy, latency ratios,
the targets and the sanity notes. Pure numpy: testable on fake results."""
from __future__ import annotations

import numpy as np

from handsdk.train import metrics as M

from ..boxes import box_iou
from ..keypoints import keypoints_box
from .bench_samples import has_hand, human_boxes, pseudo_keypoints
from .latency import median_ms

#: target for camera scenes: false hands per image at most
TARGET_FALSE_PER_IMAGE = 0.05
#: MediaPipe's own measurements (../shared/anchors/mediapipe/README.md), for sanity
MP_README_MS = {("full", "detection"): 30.0, ("full", "tracking"): 13.5,
                ("lite", "detection"): 20.0, ("lite", "tracking"): 7.0}

# targets (directions to aim for, shown as pass/fail, never asserted)
TARGET_LATENCY_RATIO = 0.5
TARGET_PCK_GAP = 0.05
TARGET_GESTURE_GAP = 0.05
TARGET_MOTION_MS = 0.1  # the motion stage's time per tracking frame (issue 29)


def _largest(hands: list[dict]) -> dict | None:
    if not hands:
        return None

    def area(h):
        b = keypoints_box(np.asarray(h["keypoints"], np.float32))
        return float((b[2] - b[0]) * (b[3] - b[1]))

    return max(hands, key=area)


def match_hands(gt: np.ndarray, hands: list[dict], iou_min: float = 0.1) -> list[np.ndarray | None]:
    """For each GT hand (21, 3 with visibility), the keypoints (21, 2) of the
    predicted hand whose keypoint box overlaps its visible-keypoint box most
    (IoU > ``iou_min``), else None. Same rule as ``handsdk.train.evaluation``."""
    out = []
    pk = [np.asarray(h["keypoints"], np.float32)[:, :2] for h in hands]
    pb = np.array([keypoints_box(k) for k in pk], np.float32).reshape(-1, 4)
    for g in gt:
        vis = g[:, 2] > 0
        if not vis.any() or not len(pk):
            out.append(None)
            continue
        ious = box_iou(keypoints_box(g[:, :2], vis)[None], pb)[0]
        k = int(np.argmax(ious))
        out.append(pk[k] if ious[k] > iou_min else None)
    return out


LOCALISED_IOU = 0.3


def localised(boxes: np.ndarray, hands: list[dict], iou_min: float = LOCALISED_IOU) -> bool:
    """True when some reported hand's keypoint box overlaps a human box with
    IoU >= ``iou_min`` (0.3: a correct tight keypoint box against a looser
    YOLO box has IoU ~0.6, 10th percentile ~0.5, on asl_letters)."""
    if not hands or not len(boxes):
        return False
    pb = np.array([keypoints_box(np.asarray(h["keypoints"], np.float32)) for h in hands], np.float32)
    return bool((box_iou(boxes, pb) >= iou_min).any())


def _kp(pred: list, gt: list) -> dict:
    if not pred:
        return {"hands": 0, "pck@0.1": None, "pck@0.2": None, "mean_error_px": None}
    km = M.keypoint_metrics(np.array(pred), np.array(gt), thresholds=(0.1, 0.2))
    return {"hands": len(pred), "pck@0.1": km["pck@0.1"], "pck@0.2": km["pck@0.2"],
            "mean_error_px": km["mean_error"]}


def _rate(found: list[bool]) -> float | None:
    return float(np.mean(found)) if found else None


def _med(v) -> float | None:
    return median_ms(v) if v else None


def build_report(samples: dict, keys: dict, sdk: dict, mp: dict | None, *, classifiers: dict | None = None,
                 sdk_on_box: dict | None = None, sdk_latency: dict | None = None, mp_latency: dict | None = None,
                 human_sets=("hand_keypoints_gt",), model: str = "full") -> dict:
    """Turn per-frame predictions into the benchmark's numbers.

    samples: {set: [Sample]}; keys: {set: [frame key per sample]}; sdk / mp:
    {key: [hand dict with "keypoints" (21, 2|3) px, "handedness", ...]} (mp
    None: MediaPipe unavailable); classifiers: {data label set:
    GestureClassifier} (run on MediaPipe's keypoints); sdk_on_box: {key: [kp
    on each GT box]}; latencies: {"WxH": {"image_ms", "video_ms", ...}}."""
    have_mp = mp is not None
    rep: dict = {"detection": [], "keypoints_human": None, "agreement": [], "gestures": [], "latency": []}
    # ---- hands found
    for name, ss in samples.items():
        ks = keys[name]
        f_sdk, f_mp, fp_sdk, fp_mp, l_sdk, l_mp = [], [], [], [], [], []
        for s, k in zip(ss, ks):
            hand = has_hand(name, s)
            (f_sdk if hand else fp_sdk).append(bool(sdk.get(k)))
            if have_mp:
                (f_mp if hand else fp_mp).append(bool(mp.get(k)))
            hb = human_boxes(s)
            if hand and hb is not None and len(hb):
                l_sdk.append(localised(hb, sdk.get(k, [])))
                if have_mp:
                    l_mp.append(localised(hb, mp.get(k, [])))
        row = {"set": name, "images_with_hand": len(f_sdk), "images_without_hand": len(fp_sdk),
               "sdk": _rate(f_sdk), "mediapipe": _rate(f_mp) if have_mp else None,
               "sdk_false_positive": _rate(fp_sdk), "mediapipe_false_positive": _rate(fp_mp) if have_mp else None,
               "images_with_human_box": len(l_sdk), "sdk_localised": _rate(l_sdk),
               "mediapipe_localised": _rate(l_mp) if have_mp else None}
        # the target compares localised rates where human boxes say where the hand is
        a, b = (("sdk_localised", "mediapipe_localised") if l_sdk else ("sdk", "mediapipe"))
        row["pass_on"] = "localised" if l_sdk else "found"
        row["pass"] = None if row[a] is None or row[b] is None else bool(row[a] >= row[b] - 1e-9)
        rep["detection"].append(row)
    # ---- camera scenes: hands found on the human boxes, false hands
    rep["scenes"] = scene_rows(samples, keys, sdk, mp)
    # ---- keypoints vs human annotations
    for name in human_sets:
        if name not in samples:
            continue
        P = {"sdk": ([], []), "mediapipe": ([], []), "sdk_on_gt_box": ([], [])}
        both = {"sdk": ([], []), "mediapipe": ([], [])}
        n_gt = 0
        for s, k in zip(samples[name], keys[name]):
            gts = [g for g in np.asarray(s.keypoints, np.float32) if (g[:, 2] > 0).any()]
            if not gts:
                continue
            gts = np.asarray(gts)
            n_gt += len(gts)
            ms = match_hands(gts, sdk.get(k, []))
            mm = match_hands(gts, mp.get(k, [])) if have_mp else [None] * len(gts)
            for j, g in enumerate(gts):
                if ms[j] is not None:
                    P["sdk"][0].append(ms[j]); P["sdk"][1].append(g)
                if mm[j] is not None:
                    P["mediapipe"][0].append(mm[j]); P["mediapipe"][1].append(g)
                if ms[j] is not None and mm[j] is not None:
                    both["sdk"][0].append(ms[j]); both["sdk"][1].append(g)
                    both["mediapipe"][0].append(mm[j]); both["mediapipe"][1].append(g)
            for j, kp in enumerate((sdk_on_box or {}).get(k, [])):
                if j < len(gts):
                    P["sdk_on_gt_box"][0].append(np.asarray(kp, np.float32)[:, :2]); P["sdk_on_gt_box"][1].append(gts[j])
        kh = {"set": name, "hands": n_gt,
              "sdk": _kp(*P["sdk"]), "mediapipe": _kp(*P["mediapipe"]) if have_mp else None,
              "sdk_on_gt_box": _kp(*P["sdk_on_gt_box"]) if sdk_on_box else None,
              "both_found": {"hands": len(both["sdk"][0]), "sdk": _kp(*both["sdk"]),
                             "mediapipe": _kp(*both["mediapipe"])} if have_mp else None}
        a, b = kh["sdk"]["pck@0.2"], (kh["mediapipe"] or {}).get("pck@0.2")
        kh["pass"] = None if a is None or b is None else bool(a >= b - TARGET_PCK_GAP)
        rep["keypoints_human"] = kh
        break
    # ---- agreement with the pseudo-labels
    for name, ss in samples.items():
        if name in human_sets:
            continue
        sp, sg, mp_p, mp_g = [], [], [], []
        n = 0
        for s, k in zip(ss, keys[name]):
            pk = pseudo_keypoints(s)
            if pk is None or not len(pk):
                continue
            n += len(pk)
            for j, m in enumerate(match_hands(pk, sdk.get(k, []))):
                if m is not None:
                    sp.append(m); sg.append(pk[j])
            if have_mp:
                for j, m in enumerate(match_hands(pk, mp.get(k, []))):
                    if m is not None:
                        mp_p.append(m); mp_g.append(pk[j])
        if n:
            rep["agreement"].append({"set": name, "pseudo_hands": n, "sdk": _kp(sp, sg),
                                     "mediapipe_live": _kp(mp_p, mp_g) if have_mp else None})
    # ---- gestures / letters
    for name, ss in samples.items():
        by_set: dict = {}
        for s, k in zip(ss, keys[name]):
            if s.label is None or s.label_set is None:
                continue
            clf = (classifiers or {}).get(s.label_set)
            if clf is None or s.label not in list(clf.labels):
                continue
            st = by_set.setdefault(s.label_set, {"gesture_set": clf.gesture_set, "n": 0, "sdk": 0, "mp": 0,
                                                 "sdk_no_hand": 0, "mp_no_hand": 0})
            st["n"] += 1
            h = _largest(sdk.get(k, []))
            if h is None:
                st["sdk_no_hand"] += 1
            elif h.get("gestures", {}).get(clf.gesture_set) == s.label:
                st["sdk"] += 1
            if have_mp:
                h = _largest(mp.get(k, []))
                if h is None:
                    st["mp_no_hand"] += 1
                else:
                    top = clf.classify(np.asarray(h["keypoints"], np.float32), h.get("handedness"))
                    st["mp"] += int(top[0].name == s.label)
        for lset, st in by_set.items():
            row = {"set": name, "label_set": lset, "gesture_set": st["gesture_set"], "samples": st["n"],
                   "sdk_end_to_end": st["sdk"] / st["n"], "sdk_no_hand": st["sdk_no_hand"],
                   "gesturenet_on_mediapipe": st["mp"] / st["n"] if have_mp else None,
                   "mediapipe_no_hand": st["mp_no_hand"] if have_mp else None}
            row["pass"] = (None if row["gesturenet_on_mediapipe"] is None else
                           bool(row["sdk_end_to_end"] >= row["gesturenet_on_mediapipe"] - TARGET_GESTURE_GAP))
            rep["gestures"].append(row)
    # ---- latency
    for size in (sdk_latency or mp_latency or {}):
        for mode, key in (("detection", "image_ms"), ("tracking", "video_ms")):
            s_ = (sdk_latency or {}).get(size, {})
            m_ = (mp_latency or {}).get(size, {})
            a, b = _med(s_.get(key)), _med(m_.get(key))
            row = {"size": size, "mode": mode, "sdk_ms": a, "mediapipe_ms": b,
                   "ratio": (a / b) if a is not None and b else None, "frames": len(s_.get(key) or [])}
            stages = s_.get("image_stage_ms" if mode == "detection" else "video_stage_ms")
            if stages:  # the SDK's time per stage (median ms per frame): where a frame's time goes
                row["sdk_stage_ms"] = {st: _med(v) for st, v in stages.items()}
            if mode == "tracking" and s_.get("video_tracked"):
                row["sdk_tracked_fraction"] = float(np.mean(s_["video_tracked"]))
            if mode == "detection":
                if s_.get("image_hands"):
                    row["sdk_hand_fraction"] = float(np.mean(np.asarray(s_["image_hands"]) > 0))
                if m_.get("image_hands"):
                    row["mediapipe_hand_fraction"] = float(np.mean(np.asarray(m_["image_hands"]) > 0))
            row["pass"] = None if row["ratio"] is None else bool(row["ratio"] <= TARGET_LATENCY_RATIO)
            why = _not_comparable(row)
            if why and row["pass"] is not None:
                row["pass_raw"], row["pass"], row["not_comparable"] = row["pass"], None, why
            rep["latency"].append(row)
    rep["targets"] = summarize_targets(rep)
    rep["sanity"] = sanity_notes(rep, model)
    return rep


def _boxes_of(hands: list[dict]) -> np.ndarray:
    return np.array([keypoints_box(np.asarray(h["keypoints"], np.float32)[:, :2]) for h in hands],
                    np.float32).reshape(-1, 4)


def reshaped(sample) -> bool:
    """Whether the frame is a view whose geometry differs from the stored
    image MediaPipe's pseudo-labels were made on (``name~W:H``,
    :func:`handsdk.train.data.sample.aspect_view`): MediaPipe on the frame
    itself finds other hands there, so its live hands are the reference."""
    return "aspect_view" in sample.extras


def reference_keypoints(sample, mp_hands: list[dict] | None) -> np.ndarray | None:
    """The MediaPipe hands a frame is scored against: its pseudo-labels, or
    live MediaPipe's hands on a :func:`reshaped` frame (when MediaPipe ran)."""
    if reshaped(sample) and mp_hands is not None:
        xy = [np.asarray(h["keypoints"], np.float32)[:, :2] for h in mp_hands]  # (its third column is depth)
        return np.array([np.concatenate([k, np.ones((len(k), 1), np.float32)], 1) for k in xy],
                        np.float32).reshape(-1, 21, 3)
    return pseudo_keypoints(sample)


def scene_frame_counts(sample, hands: list[dict], ref_keypoints=None) -> dict:
    """:func:`handsdk.train.metrics.scene_counts` of one system's hands on one frame
    (reference hands: the human boxes and MediaPipe's pseudo-labels, or
    ``ref_keypoints``)."""
    pk = pseudo_keypoints(sample) if ref_keypoints is None else ref_keypoints
    refs = _boxes_of([{"keypoints": k} for k in pk]) if pk is not None and len(pk) else None
    hw = None if sample.image is None else sample.image.shape[:2]
    return M.scene_counts(_boxes_of(hands), human_boxes(sample), refs, frame_hw=hw)


def scene_rows(samples: dict, keys: dict, sdk: dict, mp: dict | None) -> list[dict]:
    """Per camera-scene set (sets whose samples carry ``human_boxes``, even
    None): hands found on the human box, false hands per image and the share
    of images with one, for the SDK and live MediaPipe; keypoint agreement
    with the pseudo-labels on the hands both systems found."""
    rows = []
    for name, ss in samples.items():
        if not ss or "human_boxes" not in ss[0].extras:
            continue
        per = {"sdk": [], "mediapipe": []}
        both_s, both_m, both_g = [], [], []
        live_ref = mp is not None and any(reshaped(s) for s in ss)
        for s, k in zip(ss, keys[name]):
            pk = reference_keypoints(s, None if mp is None else mp.get(k, []))
            per["sdk"].append(scene_frame_counts(s, sdk.get(k, []), pk))
            if mp is not None:
                per["mediapipe"].append(scene_frame_counts(s, mp.get(k, []), pk))
            if pk is None or not len(pk):
                continue
            ms = match_hands(pk, sdk.get(k, []))
            mm = match_hands(pk, mp.get(k, [])) if mp is not None else [None] * len(pk)
            for j in range(len(pk)):
                if ms[j] is not None and (mp is None or mm[j] is not None):
                    both_s.append(ms[j]); both_g.append(pk[j])
                    if mm[j] is not None:
                        both_m.append(mm[j])
        row = {"set": name, "images": len(ss), "sdk": M.scene_summary(per["sdk"]),
               "mediapipe": M.scene_summary(per["mediapipe"]) if mp is not None else None,
               "reference": "live MediaPipe" if live_ref else "pseudo-labels",
               "sdk_keypoints": _kp(both_s, both_g),
               "mediapipe_keypoints": _kp(both_m, both_g) if mp is not None else None}
        if live_ref:  # MediaPipe's own hands are the reference: no false hands of its own to count
            row["mediapipe"].update(false_per_image=None, images_with_false=None)
        sf, mf = row["sdk"]["found_rate"], (row["mediapipe"] or {}).get("found_rate")
        row["pass_found"] = None if sf is None or mf is None else bool(sf >= mf - 1e-9)
        row["pass_false"] = bool(row["sdk"]["false_per_image"] <= TARGET_FALSE_PER_IMAGE)
        rows.append(row)
    return rows


def _not_comparable(row: dict) -> str | None:
    """Why a latency row's ratio does not compare like with like (one system
    found or tracked the hand far less often, so it did less work)."""
    if row["mode"] == "detection" and "sdk_hand_fraction" in row and "mediapipe_hand_fraction" in row:
        if row["sdk_hand_fraction"] < row["mediapipe_hand_fraction"] - 0.2:
            return "the SDK found a hand in far fewer frames than MediaPipe (less work)"
        if row["mediapipe_hand_fraction"] < row["sdk_hand_fraction"] - 0.2:
            return "MediaPipe found a hand in far fewer frames than the SDK (less work)"
    if row["mode"] == "tracking" and row.get("sdk_tracked_fraction") is not None and row["mediapipe_ms"]:
        if row["sdk_tracked_fraction"] < 0.5:
            return "the SDK did not track the hand in most frames"
    return None


def summarize_targets(rep: dict) -> list[dict]:
    out = []

    def add(name, rows):
        vals = [r["pass"] for r in rows if r.get("pass") is not None]
        nc = sum(1 for r in rows if r.get("not_comparable"))
        out.append({"target": name, "pass": (all(vals) if vals else None), "checked": len(vals),
                    "passed": int(sum(vals)), "not_comparable": nc})

    add(f"latency <= {TARGET_LATENCY_RATIO:g}x MediaPipe (every size and mode)", rep["latency"])
    add("detection rate >= MediaPipe's (every set)", rep["detection"])
    scenes = rep.get("scenes") or []
    add("camera scenes: hands found on the human box >= MediaPipe's",
        [{"pass": r["pass_found"]} for r in scenes])
    add(f"camera scenes: false hands <= {TARGET_FALSE_PER_IMAGE:g} per image", [{"pass": r["pass_false"]} for r in scenes])
    add(f"PCK@0.2 on human keypoints within {TARGET_PCK_GAP * 100:g} points of MediaPipe",
        [rep["keypoints_human"]] if rep["keypoints_human"] else [])
    add(f"motion stage <= {TARGET_MOTION_MS:g} ms per tracking frame",
        [{"pass": bool(r["sdk_stage_ms"]["motion"] <= TARGET_MOTION_MS)} for r in rep["latency"]
         if r["mode"] == "tracking" and (r.get("sdk_stage_ms") or {}).get("motion") is not None])
    add(f"letters / commands end to end within {TARGET_GESTURE_GAP * 100:g} points of GestureNet on "
        "MediaPipe keypoints", rep["gestures"])
    return out


def sanity_notes(rep: dict, model: str = "full") -> list[str]:
    """Compare MediaPipe's measured latency with its README (same class of
    machine), and the live MediaPipe with its own pseudo-labels."""
    notes = []
    for mode in ("detection", "tracking"):
        ref = MP_README_MS.get((model, mode))
        vals = [r["mediapipe_ms"] for r in rep["latency"] if r["mode"] == mode and r["mediapipe_ms"]]
        if ref and vals:
            med = median_ms(vals)
            flag = "" if 0.5 * ref <= med <= 2.0 * ref else "  <-- far from the reference: machine busy or different?"
            notes.append(f"MediaPipe {model} {mode} frames: median {med:.1f} ms over sizes "
                         f"(its README: about {ref:g} ms on a 2-core Xeon){flag}")
    for a in rep["agreement"]:
        m = a.get("mediapipe_live")
        if m and m.get("pck@0.1") is not None:
            notes.append(f"live MediaPipe vs its pseudo-labels on {a['set']}: {m['hands']}/{a['pseudo_hands']} "
                         f"hands, PCK@0.1 {m['pck@0.1']:.3f} (should be ~1: same model)")
    return notes
