"""Which images ``handsdk bench`` reads: the real sets and their splits, an
even spread of at most ``--limit`` images per set, whether an image shows a
hand, its pseudo-label keypoints and human boxes, and the fixed latency
frames (real images with one hand, letterboxed to 4:3)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import numpy as np

from ..keypoints import keypoints_box

#: real sets with hands, and the split the benchmark reads
#: camera scenes (a person in view) the benchmark scores for hands found on the
#: human boxes, false hands and keypoint agreement (validation parts only);
#: selfie_people: faces close to the camera (phone selfies, few hands; no
#: shipped model trains on it), scored for false hands
#: webcam_finger_counts@0.4: its frames shrunk to 0.4 in the middle of the frame
#: (a person farther away; hands 1/12-1/5 of the frame instead of 1/5-1/2);
#: asl_signers_studio~4:3: its frames (4:3 and 16:9 videos stored stretched to
#: squares, people squeezed) widened back to 4:3, as a camera sees a signer
SCENE_SETS = ("webcam_finger_counts", "webcam_finger_counts@0.4", "webcam_signs", "asl_signers_studio",
              "asl_signers_studio~4:3", "selfie_people")
DEFAULT_SETS = ("asl_letters", "sign_language_digits", "asl_alphabet_subset", "asl_two_signers",
                "hand_keypoints_gt") + SCENE_SETS
SET_SPLITS = {"asl_letters": "valid", "sign_language_digits": "valid", "asl_alphabet_subset": None,
              "asl_two_signers": None, "hand_keypoints_gt": None, "webcam_finger_counts": "valid",
              "webcam_signs": "valid", "asl_signers_studio": None, "selfie_people": None}
#: every image of these sets shows a hand (except the label in NO_HAND_LABELS)
ALWAYS_HAND_SETS = {"asl_letters", "sign_language_digits", "asl_alphabet_subset", "asl_two_signers",
                    "hand_keypoints_gt"}
NO_HAND_LABELS = {"nothing"}
SIZES = ((160, 120), (320, 240), (640, 480))


# ------------------------------------------------------------------ data


def has_hand(set_name: str, sample) -> bool:
    """Whether the image shows a hand, from the set itself (not from MediaPipe's
    pseudo-labels, which miss some hands): every image of the benchmark's sets
    and of a user's gesture folders does, except those labelled ``nothing``."""
    if sample.label in NO_HAND_LABELS:
        return False
    if set_name in ALWAYS_HAND_SETS or sample.source not in SET_SPLITS:
        return True
    hb = sample.extras.get("human_boxes")
    return bool(len(sample.boxes) or len(sample.keypoints) or (hb is not None and len(hb)))


def pseudo_keypoints(sample) -> np.ndarray | None:
    """MediaPipe's pseudo-label keypoints of a sample (N, 21, 3), or None."""
    if "pseudo_keypoints" in sample.extras:
        return np.asarray(sample.extras["pseudo_keypoints"], np.float32).reshape(-1, 21, 3)
    if sample.keypoint_source == "mediapipe":
        return np.asarray(sample.keypoints, np.float32)
    if sample.extras.get("pseudo_labelled") is not None:
        return np.zeros((0, 21, 3), np.float32)
    return None


def select_samples(sets, root=None, limit: int | None = 100, log: Callable[[str], None] = print):
    """{set: [Sample with image]} and {set: reason skipped}. ``sets`` entries
    are dataset names, ``name:split`` or a folder of ``<class>/<images>``; a
    name ending in ``@F`` (e.g. ``webcam_finger_counts@0.4``) is read as a
    camera F times as near would see it (:func:`handsdk.train.data.sample.far_view`:
    the frame shrunk in the middle of a canvas of its size; small hands); one
    ending in ``~W:H`` (``asl_signers_studio~4:3``) with its frames shown at
    that aspect (:func:`handsdk.train.data.sample.aspect_view`: a set stored
    stretched, as its camera saw it)."""
    from handsdk.train.data.formats import ensure_image
    from handsdk.train.data.registry import load_dataset, spread
    from handsdk.train.data.sample import split_view

    chosen, skipped = {}, {}
    for name in sets:
        split = None
        base, view = (name, None) if Path(name).exists() else split_view(name)
        if ":" in base and not Path(base).exists():
            base, split = base.split(":", 1)
        elif base in SET_SPLITS:
            split = SET_SPLITS[base]
        try:
            ss = load_dataset(base, split, root, load_image=False)
        except (FileNotFoundError, KeyError, ValueError) as e:
            skipped[name] = str(e).strip("'\"")
            continue
        ss = [s for s in ss if s.path and s.extras.get("has_image", True)]
        ss = [ss[i] for i in spread(len(ss), limit)]
        for s in ss:
            ensure_image(s)
        if view is not None:
            ss = [view(s) for s in ss if s.image is not None]
        if not ss:
            skipped[name] = "no images"
            continue
        chosen[name] = ss
        log(f"  {name}: {len(ss)} images")
    return chosen, skipped


def sample_frames(chosen: dict) -> tuple[dict, dict, dict]:
    """The frames both systems see: ({key: RGB image}, {set: [key per
    sample]}, {key: [box of each human-keypoint hand]})."""
    frames, keys, gt_boxes = {}, {}, {}
    for name, ss in chosen.items():
        keys[name] = []
        for i, s in enumerate(ss):
            k = f"{re.sub(r'[^A-Za-z0-9_-]', '_', name)}__{i:05d}"
            frames[k] = np.ascontiguousarray(s.image)
            keys[name].append(k)
            if s.keypoint_source == "human":
                gt_boxes[k] = [keypoints_box(g[:, :2], g[:, 2] > 0) for g in s.keypoints if (g[:, 2] > 0).any()]
    return frames, keys, gt_boxes


def letterbox_43(rgb: np.ndarray, size) -> np.ndarray:
    """Pad an image to 4:3 (centred, black) and resize it to ``size`` (w, h)."""
    import cv2

    h, w = rgb.shape[:2]
    tw, th = size
    if w * th >= h * tw:
        W, H = w, int(round(w * th / tw))
    else:
        W, H = int(round(h * tw / th)), h
    canvas = np.zeros((H, W, 3), np.uint8)
    y0, x0 = (H - h) // 2, (W - w) // 2
    canvas[y0:y0 + h, x0:x0 + w] = rgb[..., :3]
    interp = cv2.INTER_AREA if W > tw else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(canvas, (tw, th), interpolation=interp))


def latency_images(chosen: dict, n: int = 10) -> list[np.ndarray]:
    """A fixed set of real images with a hand: first those with exactly one
    hand by MediaPipe's pseudo-labels (so that both systems can track it),
    asl_letters first, then the other sets in order; then any image with a hand."""
    pref = ("asl_letters", "asl_two_signers", "sign_language_digits", "asl_alphabet_subset")
    order = [s for s in pref if s in chosen] + [s for s in chosen if s not in pref]
    out, rest = [], []
    for name in order:
        for s in chosen[name]:
            if s.image is None or not has_hand(name, s):
                continue
            pk = pseudo_keypoints(s)
            if pk is not None and len(pk) == 1:
                out.append(s.image)
                if len(out) >= n:
                    return out
            else:
                rest.append(s.image)
    return (out + rest)[:n]


def human_boxes(sample) -> np.ndarray | None:
    """Hand boxes drawn by people (YOLO boxes, or the tight boxes of human
    keypoints), or None when the set has none (boxes made from MediaPipe's
    pseudo-labels do not count)."""
    if sample.extras.get("human_boxes") is not None:  # the scene sets
        return np.asarray(sample.extras["human_boxes"], np.float32).reshape(-1, 4)
    if "box_classes" in sample.extras and len(sample.boxes):
        return np.asarray(sample.boxes, np.float32)
    if sample.keypoint_source == "human" and len(sample.keypoints):
        return np.array([keypoints_box(g[:, :2], g[:, 2] > 0) for g in sample.keypoints if (g[:, 2] > 0).any()],
                        np.float32).reshape(-1, 4)
    return None
