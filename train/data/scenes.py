"""Readers for the "people in view" sets of ``../shared/data`` (webcam and
phone frames with a face, an upper body and hands at arm's length) and the
extra close-up sets that came with them.

Every reader returns :class:`~handsdk.train.data.sample.Sample` records:

* ``keypoints`` / ``boxes`` / ``handedness``: **every** hand MediaPipe found
  (its pseudo-labels, duplicates dropped), one entry per hand, boxes tight on
  the keypoints, so a detector or landmarker trained on them sees every hand
  of the frame as a hand;
* ``extras["human_boxes"]``: the boxes people drew (VOC / YOLO / oriented YOLO
  made axis-aligned), or ``None`` where the source has none; on
  ``webcam_signs``, ``isl_phone`` and ``ksl_signers`` one box may hold both
  hands of a sign;
* ``extras["human_classes"]``: the class of each human box (mapped, see
  :func:`map_scene_label`), and ``extras["hand_labels"]``: per pseudo hand the
  class of the human box that holds it (``None`` if none does);
* ``extras["missed_boxes"]``: human boxes that hold no pseudo-labelled hand
  (MediaPipe missed it): a training step that treats "no keypoints" as "no
  hand" must skip or mask those (see :func:`has_unlabelled_hand`);
* ``label`` / ``label_set``: the first box's class (finger counts as ``"0"``
  .. ``"5"``, sign words snake_case; the sets ``finger_counts`` and ``signs``
  of :data:`~handsdk.train.data.catalog.LABEL_SETS`).

The sets' folders, licences and splits are in
:data:`~handsdk.train.data.catalog.DATASET_INFO`;
:func:`handsdk.train.data.registry.load_dataset` loads them by name.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from handsdk.keypoints import keypoints_box

from .catalog import DATASET_INFO, dataset_folder
from .formats import (DataFormatError, dedupe_hands, folder_pseudo_labels, image_size, inside_fraction, list_images,
                      load_image, read_voc_boxes, read_yolo_boxes, require_dir, snake_case)
from .sample import Sample

#: name -> (layout, box format, splits, label set, class-name mapping)
#: layout "split": <set>/<split>/{images,labels}; "flat": <set>/{images,labels}
_LAYOUT = {
    "webcam_finger_counts": ("split", "voc", ("train", "valid"), "finger_counts"),
    "webcam_signs": ("split", "voc", ("train", "valid"), "signs"),
    "ksl_signers": ("flat", "yolo", (), "ksl"),
    "isl_phone": ("flat", "yolo", (), "signs"),
    "closeup_finger_counts": ("split", "yolo", ("train", "valid"), "finger_counts"),
    "closeup_open_hands": ("split", "obb", ("train", "valid"), "hand"),
    "asl_signers_studio": ("flat", None, (), None),
    "selfie_people": ("flat", None, (), None),
    "driver_cam": ("flat", None, (), None),
}

_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "hi": "hello", "thank_you": "thanks"}


def map_scene_label(set_name: str, raw: str) -> str:
    """A source's class name -> the SDK's label: ``"3-hand"`` -> ``"3"``,
    ``"five"`` -> ``"5"``, ``"I Love you"`` -> ``"i_love_you"``, ``"hi"`` ->
    ``"hello"``; KSL gesture ids stay as they are."""
    s = snake_case(str(raw))
    if s.endswith("_hand") and s[:-5].isdigit():
        return s[:-5]
    return _WORDS.get(s, s)


def _scene_sample(img_path: Path, rel: str, set_name: str, pseudo: dict | None, human, classes,
                  label_set, load: bool, split: str | None) -> Sample:
    rec = pseudo.get(rel) if pseudo is not None else None
    image = load_image(img_path) if load else None
    size = image.shape[:2] if rec is None and image is not None else image_size(str(img_path), rec)
    if image is not None and image.shape[:2] != size:
        raise DataFormatError(f"{img_path}: image is {image.shape[1]}x{image.shape[0]} but its pseudo-label "
                              f"record says {size[1]}x{size[0]}")
    kp = np.zeros((0, 21, 3), np.float32)
    hands: list = []
    if rec is not None and len(rec["keypoints"]):
        keep = dedupe_hands(rec["keypoints"])
        kp = rec["keypoints"][keep].astype(np.float32)
        hands = [rec["handedness"][i] for i in keep]
    mapped = [map_scene_label(set_name, c) for c in classes] if classes is not None else None
    s = Sample(image=image, boxes=np.stack([keypoints_box(k) for k in kp]) if len(kp) else np.zeros((0, 4), np.float32),
               keypoints=kp, keypoint_source="mediapipe" if rec is not None else "none", handedness=hands,
               label=mapped[0] if mapped else None, label_set=label_set, source=set_name, path=str(img_path))
    s.extras.update(relpath=rel, size=size, split=split, pseudo_labelled=rec is not None)
    if human is not None:
        hb = np.asarray(human, np.float32).reshape(-1, 4)
        s.extras["human_boxes"] = hb
        s.extras["human_classes"] = mapped
        s.extras["hand_labels"] = []
        for k in kp:
            fr = [inside_fraction(k, b) for b in hb]
            j = int(np.argmax(fr)) if fr else -1
            s.extras["hand_labels"].append(mapped[j] if j >= 0 and fr[j] >= 0.6 else None)
        s.extras["missed_boxes"] = np.asarray(
            [b for b in hb if not any(inside_fraction(k, b, 0.15) >= 0.6 for k in kp)], np.float32).reshape(-1, 4)
    else:
        s.extras["human_boxes"] = None
    return s


def load_scene_set(name: str, split: str | None = None, root=None, *, load_image: bool = True,
                   pseudo_labels: bool = True, **_ignored) -> list[Sample]:
    """All samples of one scene set (``split``: ``"train"`` / ``"valid"`` where
    the set has them, None for all)."""
    if name not in _LAYOUT:
        raise KeyError(f"unknown scene set {name!r}: known are {sorted(_LAYOUT)}")
    layout, fmt, splits, label_set = _LAYOUT[name]
    base = dataset_folder(name, root)
    pseudo = folder_pseudo_labels(base, pseudo_labels)
    names: list[str] = []
    if (base / "classes.txt").is_file():
        names = [ln.strip() for ln in (base / "classes.txt").read_text(encoding="utf-8").splitlines() if ln.strip()]
    if layout == "split":
        want = splits if split in (None, "all") else (split,)
        bad = [s for s in want if s not in splits]
        if bad:
            raise ValueError(f"{name} has splits {list(splits)}, not {bad[0]!r}")
        folders = [(sp, base / sp, f"{sp}/") for sp in want]
    else:
        if split not in (None, "all", "train"):
            raise ValueError(f"{name} has no splits (use split=None); got {split!r}")
        folders = [(None, base, "")]
    out = []
    for sp, d, prefix in folders:
        img_dir = require_dir(d / "images", f"{name} images folder")
        for img in list_images(img_dir):
            rel = f"{prefix}images/{img.name}"
            human = classes = None
            if fmt is not None:
                rec = pseudo.get(rel) if pseudo else None
                if fmt == "voc":
                    lbl = d / "labels" / (img.stem + ".xml")
                    human, classes = read_voc_boxes(lbl) if lbl.is_file() else ([], [])
                else:
                    lbl = d / "labels" / (img.stem + ".txt")
                    h, w = image_size(str(img), rec)
                    human, classes = (read_yolo_boxes(lbl, w, h, names, oriented=fmt == "obb") if lbl.is_file()
                                      else ([], []))
            out.append(_scene_sample(img, rel, name, pseudo, human, classes, label_set, load_image, sp))
    return out


def has_unlabelled_hand(sample: Sample) -> bool:
    """True when people drew a hand that MediaPipe did not label: training
    that reads "no keypoints here" as "no hand here" must skip the frame."""
    mb = sample.extras.get("missed_boxes")
    return mb is not None and len(mb) > 0


def _make_reader(name):
    def reader(split=None, root=None, **kw):
        return load_scene_set(name, split, root, **kw)

    reader.__name__ = name
    reader.__doc__ = f"{DATASET_INFO[name].description} (see :func:`load_scene_set`)."
    return reader


SCENE_READERS = {n: _make_reader(n) for n in _LAYOUT}
SCENE_SETS = tuple(_LAYOUT)
#: the scene sets used to validate (the issue's "validation parts the project can see")
SCENE_VALIDATION = (("webcam_finger_counts", "valid"), ("webcam_signs", "valid"), ("asl_signers_studio", None))
