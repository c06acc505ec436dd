"""How upright a new hand's landmarker crop is, per set (issue 27.1).

MediaPipe's palm detector gives its landmarker an upright crop. The SDK's
runtime finds a new hand's angle one of two ways: from the detector's anchors
(wrist and palm top, :meth:`handsdk.stages.Detection.box_rotation`: one
landmarker pass), or, for a detector without them, from a first landmarker
pass on the axis-aligned box (its keypoints or rotation head), followed by a
second, upright pass. This tool runs each bundle's detector and landmarker as
the runtime does on a detection, on every hand MediaPipe pseudo-labelled in
the chosen sets, and compares the angle of the crop the keypoints come from
(:attr:`handsdk.stages.Landmarks.crop_rotation`) with the pseudo-label's
(:func:`handsdk.keypoints.hand_rotation`)::

    python -m handsdk.tools.crop_angles --bundle a.handsdk --bundle b.handsdk [--sets ...] [--limit 100] [--json]

For each set and bundle: the hands the detector boxed (IoU >= 0.3 with the
pseudo-label's keypoint box), the share whose crop is more than 30 degrees
off, the median error, how many landmarker passes a hand took, and PCK@0.2
against the pseudo-labels (as ``handsdk bench`` scores it).
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from ..keypoints import angle_error_deg, has_hand_rotation, hand_rotation, keypoints_box

#: validation sets with people in view and close-ups (the pseudo-labels are the reference)
DEFAULT_SETS = ("webcam_finger_counts", "webcam_signs", "asl_signers_studio", "hand_keypoints_gt", "asl_letters",
                "asl_two_signers")


def crop_angles(bundle, samples, *, min_iou: float = 0.3) -> dict:
    """The crop angle a new hand gets from ``bundle`` on ``samples`` (with
    images and pseudo-label or human keypoints)."""
    from handsdk.boxes import box_iou
    from handsdk.stages import HandDetector, HandLandmarker

    from .bench_samples import pseudo_keypoints

    det = HandDetector(bundle, color_order="RGB", max_hands=4)
    lm = HandLandmarker(bundle, color_order="RGB")
    runs = [0]
    run = lm.landmark_crop

    def counted(*a, **kw):
        runs[0] += 1
        return run(*a, **kw)

    lm.landmark_crop = counted
    errs, passes, pck = [], [], []
    for s in samples:
        ref = pseudo_keypoints(s)
        if s.keypoint_source == "human":
            ref = np.asarray(s.keypoints, np.float32)
        if ref is None or not len(ref):
            continue
        d = det.detect_rgb(np.ascontiguousarray(s.image))
        for kp in ref:
            vis = kp[:, 2] > 0 if s.keypoint_source == "human" else np.ones(len(kp), bool)  # (z, not visibility)
            if not has_hand_rotation(vis):
                continue
            kb = keypoints_box(kp[:, :2], vis)
            ious = box_iou(kb, d.boxes).reshape(-1)
            if not ious.size or ious.max() < min_iou:
                continue
            runs[0] = 0
            out = lm.landmark_rgb(s.image, d.boxes[int(np.argmax(ious))], detection=d)
            passes.append(runs[0])
            errs.append(angle_error_deg(out.crop_rotation, hand_rotation(kp, vis)))
            side = max(kb[2] - kb[0], kb[3] - kb[1], 1.0)
            dist = np.hypot(*(out.keypoints[:, :2] - kp[:, :2]).T)[vis]
            pck.append(float((dist <= 0.2 * side).mean()))
    e = np.asarray(errs, np.float64)
    return {"hands": int(e.size), "off30": float((e > 30).mean()) if e.size else None,
            "median_err_deg": float(np.median(e)) if e.size else None,
            "passes": float(np.mean(passes)) if passes else None,
            "pck20": float(np.mean(pck)) if pck else None,
            "reads_anchors": det.reads_anchors}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m handsdk.tools.crop_angles", description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", action="append", required=True, help="a bundle (repeat to compare)")
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS), help="comma-separated sets (as handsdk bench)")
    ap.add_argument("--limit", type=int, default=100, help="images per set (spread evenly)")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = ap.parse_args(argv)
    from handsdk.bundle import BundleError, load_bundle

    from .bench_samples import select_samples

    bundles = {}
    for b in a.bundle:
        try:
            bundles[b] = load_bundle(b)
        except (BundleError, OSError) as e:
            print(f"error: {b}: {e}", file=sys.stderr)
            return 2
    chosen, skipped = select_samples([s for s in a.sets.split(",") if s], a.data_root, a.limit,
                                     log=lambda m: print(m, file=sys.stderr))
    for name, why in skipped.items():
        print(f"skipped {name}: {why}", file=sys.stderr)
    if not chosen:
        print("error: no set could be read (is HANDSDK_DATA or --data-root right?)", file=sys.stderr)
        return 2
    res = {name: {b: crop_angles(bundles[b], ss) for b in a.bundle} for name, ss in chosen.items()}
    if a.json:
        print(json.dumps(res, indent=1))
        return 0
    fmt = lambda v, p=3: "-" if v is None else (f"{v:.{p}f}" if isinstance(v, float) else str(v))  # noqa: E731
    print("| set | bundle | hands | crop > 30 deg off | median error (deg) | passes | PCK@0.2 |")
    print("|---|---|---|---|---|---|---|")
    for name, per in res.items():
        for b, r in per.items():
            print(f"| {name} | {b} | {r['hands']} | {fmt(r['off30'])} | {fmt(r['median_err_deg'], 1)} | "
                  f"{fmt(r['passes'], 2)} | {fmt(r['pck20'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
