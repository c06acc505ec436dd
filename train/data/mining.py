"""Hard negatives mined where a detector fires on no hand.

A detector trained on close-ups takes faces, necks and forearms for hands in
camera scenes. Running a bundle's detector over scene frames and keeping its
boxes that overlap no known hand (MediaPipe's pseudo-labelled hands and the
boxes people drew) gives exactly the crops the landmarker's presence score has
to reject: they train the presence head (``data.hard_negatives`` of a pose
config) and measure it (``presence_auc`` in :mod:`handsdk.train.evaluate`).

``python -m handsdk.train.data.mining --bundle B -o runs/hard_negatives.json``
writes ``{"bundle": ..., "sets": [...], "boxes": {image path: [[x0, y0, x1, y1], ...]}}``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from handsdk.train import metrics as M

#: shippable scene sets whose frames are mined by default (never asl_signers_studio:
#: its licence allows validation only)
DEFAULT_SETS = ("webcam_finger_counts/train", "webcam_signs/train", "ksl_signers", "isl_phone", "driver_cam",
                "closeup_finger_counts/train", "closeup_open_hands/train")
#: a mined box must be this far from every known hand (stricter than a "false
#: hand" in the benchmark, so that no real hand becomes a negative)
MAX_IOU = 0.02
MAX_INSIDE = 0.05


def known_hands(sample) -> np.ndarray:
    """Every hand box known for a sample: pseudo-label keypoint boxes and the
    boxes people drew (including hands MediaPipe missed)."""
    boxes = [np.asarray(sample.boxes, np.float32).reshape(-1, 4)]
    hb = sample.extras.get("human_boxes")
    if hb is not None:
        boxes.append(np.asarray(hb, np.float32).reshape(-1, 4))
    return np.concatenate(boxes, 0)


def is_far(box, hands: np.ndarray) -> bool:
    return M.far_from_all(box, hands, MAX_IOU, MAX_INSIDE)


def mine(bundle, sets=DEFAULT_SETS, *, root=None, max_hands: int = 4, min_score: float = 0.3,
         progress=print) -> dict:
    """{image path: [box, ...]} of the bundle detector's boxes on no hand."""
    from handsdk.stages import HandDetector
    from handsdk.train.data import registry

    det = HandDetector(str(bundle), max_hands=max_hands, min_score=min_score, color_order="RGB")
    out: dict[str, list] = {}
    n_img = n_box = 0
    t0 = time.time()
    for spec in sets:
        name, _, split = spec.partition("/")
        samples = registry.load_dataset(name, split or None, root)
        for s in samples:
            if s.image is None:
                continue
            d = det.detect_rgb(s.image)
            hands = known_hands(s)
            far = [b.round(1).tolist() for b in d.boxes if is_far(b, hands)]
            n_img += 1
            if far:
                out[s.path] = far
                n_box += len(far)
        progress(f"  mined {spec}: {len(samples)} frames, {n_box} boxes so far ({time.time() - t0:.0f}s)")
    return {"bundle": str(bundle), "sets": list(sets), "frames": n_img, "boxes": out}


def load(path) -> dict[str, list]:
    """The ``boxes`` map of a mined file (clear error when it is missing); a
    comma-separated list of files gives their union."""
    if isinstance(path, str) and "," in path:
        out: dict[str, list] = {}
        for part in (x.strip() for x in path.split(",") if x.strip()):
            for k, v in load(part).items():
                out.setdefault(k, []).extend(v)
        return out
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"hard-negative file {str(p)!r} not found: make it with "
                                f"python -m handsdk.train.data.mining --bundle B -o {p}")
    d = json.loads(p.read_text())
    if not isinstance(d, dict) or not isinstance(d.get("boxes"), dict):
        raise ValueError(f"{p}: not a hard-negative file (expected a JSON object with 'boxes')")
    return d["boxes"]


def save(result: dict, path) -> Path:
    """Write a mined file (``{"boxes": ...}`` and what made it) where :func:`load` reads it."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(result))
    return p


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m handsdk.train.data.mining", description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", default=None, help="bundle whose detector is mined (default: the shipped one)")
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS), help="comma-separated <set>[/<split>]")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args(argv)
    bundle = a.bundle
    if bundle is None:
        from handsdk.bundle import default_bundle_path

        bundle = default_bundle_path()
    res = mine(bundle, [s for s in a.sets.split(",") if s], root=a.data_root)
    save(res, a.output)
    print(f"{sum(len(v) for v in res['boxes'].values())} boxes on no hand in {len(res['boxes'])} of "
          f"{res['frames']} frames -> {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
