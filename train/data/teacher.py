"""MediaPipe's landmark model as a teacher for hands that have no pseudo-label.

The pseudo-labels of the shared sets (``mediapipe_landmarks.jsonl``) come from
MediaPipe's full pipeline: its palm detector misses some hands, and those
hands, which people boxed, get no keypoints, so the landmarker never trains
on them, and they are the hard ones (small, blurred, turned, cut by the
frame). Its landmark model alone (``hand_landmark_full.tflite``, Apache-2.0,
in ``../shared/anchors/mediapipe``; it runs on LiteRT without the MediaPipe
package) labels them from the human box: a square crop of the box at four
angles, the one its hand score likes best, then one upright crop from those
keypoints (MediaPipe's own crop rule: wrist to middle knuckle up), kept when
its hand score passes ``min_score`` and the two passes agree::

    python -m handsdk.train.data.teacher -o runs/teacher.json [--sets ...]

writes ``{"teacher": model file, "sets": [...], "hands": {<set>/<image>: [{"keypoints":
[[x, y, z] x 21], "handedness": "Left"|"Right", "score": s, "box": [x0, y0, x1, y1]}]}}``
(frame pixels). :func:`merge` adds them to samples (``data.teacher`` of a
pose config).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from handsdk.image import apply_affine, crop_matrix, invert_affine, warp
from handsdk.keypoints import aligned_box, hand_rotation, keypoints_box
from handsdk.train import metrics as M

#: shippable sets whose human boxes are labelled (never asl_signers_studio: validation only)
DEFAULT_SETS = ("webcam_finger_counts/train", "webcam_signs/train", "ksl_signers", "isl_phone",
                "closeup_finger_counts/train", "closeup_open_hands/train", "asl_letters/train")
MODEL_FILE = "hand_landmark_full.tflite"
SIZE = 224  # the model's input
#: the square crop around a human box (a box around the hand, about MediaPipe's
#: palm-box-to-hand-crop ratio), and around the first pass's keypoints
BOX_SCALE = 1.6
KEYPOINT_SCALE = 1.5
#: a box counts as pseudo-labelled when a pseudo-label hand overlaps it this much
COVERED_IOU = 0.1


class Teacher:
    """MediaPipe's landmark model on LiteRT (``tf.lite`` as a fallback):
    ``run(rgb, matrix)`` -> (keypoints (21, 3) in frame pixels, hand score,
    P(right))."""

    def __init__(self, model_path):
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"no teacher model at {path}: give the folder with {MODEL_FILE} "
                                    f"(../shared/anchors/mediapipe) with --anchors")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:  # pragma: no cover - the train extra has tensorflow
            from tensorflow.lite import Interpreter
        self.it = Interpreter(model_path=str(path), num_threads=2)
        self.it.allocate_tensors()
        self.inp = self.it.get_input_details()[0]["index"]
        outs = {d["name"]: d["index"] for d in self.it.get_output_details()}
        # Identity: 21 x (x, y, z) in input pixels; Identity_1: hand score; Identity_2: handedness
        self.out_kp, self.out_score, self.out_hand = outs["Identity"], outs["Identity_1"], outs["Identity_2"]
        self.path = path

    def run(self, rgb: np.ndarray, m: np.ndarray):
        crop = warp(rgb, m, (SIZE, SIZE)).astype(np.float32) / 255.0
        self.it.set_tensor(self.inp, crop[None])
        self.it.invoke()
        kp = self.it.get_tensor(self.out_kp).reshape(21, 3).astype(np.float64)
        xy = apply_affine(invert_affine(m), kp[:, :2])
        scale = 1.0 / math.hypot(m[0, 0], m[0, 1])  # crop -> frame pixels, for z
        out = np.concatenate([xy, kp[:, 2:3] * scale], axis=1).astype(np.float32)
        return out, float(self.it.get_tensor(self.out_score).reshape(-1)[0]), \
            float(self.it.get_tensor(self.out_hand).reshape(-1)[0])

    def label(self, rgb: np.ndarray, box, *, min_score: float = 0.9, max_shift: float = 0.15):
        """The teacher's keypoints of the hand in ``box`` (frame pixels), or
        None: (keypoints (21, 3), score, P(right))."""
        best = None
        for k in range(4):
            r = self.run(rgb, crop_matrix(box, SIZE, scale=BOX_SCALE, rotation=k * math.pi / 2))
            if best is None or r[1] > best[1]:
                best = r
        kp = best[0]
        rot = hand_rotation(kp)
        ref = self.run(rgb, crop_matrix(aligned_box(kp, rot), SIZE, scale=KEYPOINT_SCALE, rotation=rot))
        kb = keypoints_box(ref[0][:, :2])
        side = max(kb[2] - kb[0], kb[3] - kb[1], 1.0)
        shift = float(np.hypot(*(ref[0][:, :2] - kp[:, :2]).T).mean()) / side
        if ref[1] < min_score or shift > max_shift:
            return None
        return ref


def sample_key(sample) -> str:
    """Where a sample's image is, independent of where the data folder is
    (``<set>/<path in the set>``; the file path when the set does not say)."""
    rel = sample.extras.get("relpath")
    return f"{sample.source}/{rel}" if rel and sample.source else str(sample.path)


def unlabelled_boxes(sample) -> list:
    """The human boxes of a sample that no pseudo-label hand covers: a scene
    set's ``missed_boxes`` (:mod:`handsdk.train.data.scenes`' rule), else the
    YOLO boxes of a close-up set that no pseudo-label hand overlaps."""
    if sample.extras.get("missed_boxes") is not None:
        return list(np.asarray(sample.extras["missed_boxes"], np.float32).reshape(-1, 4))
    hb = sample.extras.get("human_boxes")
    if hb is None and sample.extras.get("box_classes") is not None:  # asl_letters: its YOLO boxes
        hb = sample.boxes
    if hb is None:
        return []
    pl = [keypoints_box(k[:, :2]) for k in np.asarray(sample.keypoints).reshape(-1, 21, 3)]
    out = []
    for b in np.asarray(hb, np.float32).reshape(-1, 4):
        if not pl or M.box_iou(b, np.asarray(pl)).max() < COVERED_IOU:
            out.append(b)
    return out


def label_sets(sets=DEFAULT_SETS, *, anchors=None, root=None, min_score: float = 0.9, progress=print) -> dict:
    """Teacher keypoints of every unlabelled human box in ``sets``."""
    from handsdk.train.mediapipe.env import anchors_dir
    from handsdk.train.data import registry
    from handsdk.train.data.formats import ensure_image

    teacher = Teacher(Path(anchors_dir(anchors)) / MODEL_FILE)
    hands: dict[str, list] = {}
    n_box = n_kept = 0
    t0 = time.time()
    for spec in sets:
        name, _, split = spec.partition("/")
        ss = registry.load_dataset(name, split or None, root, load_image=False)
        for s in ss:
            boxes = unlabelled_boxes(s)
            if not boxes:
                continue
            ensure_image(s)
            if s.image is None:
                continue
            for b in boxes:
                n_box += 1
                r = teacher.label(s.image, b, min_score=min_score)
                if r is None:
                    continue
                n_kept += 1
                hands.setdefault(sample_key(s), []).append({
                    "keypoints": np.round(r[0], 2).tolist(), "handedness": "Right" if r[2] >= 0.5 else "Left",
                    "score": round(r[1], 4), "box": [round(float(v), 1) for v in b]})
        progress(f"  {spec}: {n_kept} of {n_box} unlabelled boxes labelled so far ({time.time() - t0:.0f}s)")
    return {"teacher": teacher.path.name, "sets": list(sets), "boxes": n_box, "kept": n_kept, "hands": hands}


def load(path) -> dict:
    """{sample key (:func:`sample_key`): [hand dict]} of a teacher file (see the module doc)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"data.teacher: no teacher labels at {p} (write them with "
                                f"python -m handsdk.train.data.teacher -o {p})")
    return json.loads(p.read_text())["hands"]


def load_all(paths: str) -> dict:
    """The union of comma-separated teacher files (``data.teacher``); a hand
    two files give for the same box is taken once."""
    out: dict = {}
    for part in (p.strip() for p in str(paths).split(",") if p.strip()):
        for k, v in load(part).items():
            have = out.setdefault(k, [])
            have += [h for h in v if all(h.get("box") != o.get("box") for o in have)]
    return out


def merge(samples, hands: dict) -> int:
    """Add the teacher's hands to the samples they belong to (by image path);
    returns how many were added. Keypoints get visibility 1 (z is dropped, as
    for pseudo-labels the landmarker reads x, y), handedness as given. A
    sample drawn twice gets them once."""
    n = 0
    for s in samples:
        extra = hands.get(sample_key(s))
        if not extra or "teacher_hands" in s.extras:
            continue
        kps = np.asarray([h["keypoints"] for h in extra], np.float32).reshape(-1, 21, 3)
        kps[..., 2] = 1.0
        s.keypoints = np.concatenate([np.asarray(s.keypoints, np.float32).reshape(-1, 21, 3), kps])
        s.boxes = np.concatenate([np.asarray(s.boxes, np.float32).reshape(-1, 4),
                                  np.asarray([keypoints_box(k[:, :2]) for k in kps], np.float32)])
        s.handedness = list(s.handedness) + [h["handedness"] for h in extra]
        s.extras["teacher_hands"] = len(extra)
        if s.extras.get("missed_boxes") is not None:  # the boxed hands the teacher labelled are no longer missed
            from handsdk.train.data.formats import inside_fraction

            s.extras["missed_boxes"] = np.asarray(
                [b for b in np.asarray(s.extras["missed_boxes"], np.float32).reshape(-1, 4)
                 if not any(inside_fraction(k, b, 0.15) >= 0.6 for k in kps)], np.float32).reshape(-1, 4)
        n += len(extra)
    return n


def save(result: dict, path) -> Path:
    """Write the teacher's labels (:func:`label_sets`) where :func:`load` reads them."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(result))
    return p


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m handsdk.train.data.teacher", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS), help="comma-separated <set>[/<split>]")
    ap.add_argument("--anchors", default=None, help="folder with hand_landmark_full.tflite "
                                                    "(default: $HANDSDK_ANCHORS or ../shared/anchors/mediapipe)")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--min-score", type=float, default=0.9, help="the teacher's hand score to keep a hand")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args(argv)
    try:
        res = label_sets([s for s in a.sets.split(",") if s], anchors=a.anchors, root=a.data_root,
                         min_score=a.min_score)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = save(res, a.output)
    print(f"{res['kept']} of {res['boxes']} unlabelled boxes labelled by the teacher -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
