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
  :data:`SCENE_LABELS`), and ``extras["hand_labels"]``: per pseudo hand the
  class of the human box that holds it (``None`` if none does);
* ``extras["missed_boxes"]``: human boxes that hold no pseudo-labelled hand
  (MediaPipe missed it): a training step that treats "no keypoints" as "no
  hand" must skip or mask those (see :func:`has_unlabelled_hand`);
* ``label`` / ``label_set``: the first box's class (finger counts as ``"0"``
  .. ``"5"``, sign words snake_case).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from handsdk.keypoints import keypoints_box

from .real import (DataFormatError, DatasetInfo, _dedupe_hands, _image_size, _list_images, _pseudo_for_folder,
                   _require_dir, _snake, load_image)
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
    s = _snake(str(raw))
    if s.endswith("_hand") and s[:-5].isdigit():
        return s[:-5]
    return _WORDS.get(s, s)


SCENE_LABELS = {
    "finger_counts": ("0", "1", "2", "3", "4", "5"),
    "signs": ("hello", "thanks", "yes", "no", "i_love_you", "please"),
}

SCENE_DATASET_INFO = {
    "webcam_finger_counts": DatasetInfo(
        "webcam_finger_counts", "webcam_finger_counts", "Apache-2.0", True,
        "webcam/laptop frames, face + 1-2 raised hands (0-5 fingers), VOC box per hand",
        ("train", "valid"), ("finger_counts",), notes="valid = whole recording sessions"),
    "webcam_signs": DatasetInfo(
        "webcam_signs", "webcam_signs", "MIT", True,
        "home-webcam frames of three people signing (hello, thanks, yes, no, I love you)",
        ("train", "valid"), ("signs",), notes="valid = the third person; one box may hold both hands"),
    "ksl_signers": DatasetInfo(
        "ksl_signers", "ksl_signers", "CC BY 4.0", True,
        "two women signing in view of a webcam / studio camera, small hands", (), ("ksl",)),
    "isl_phone": DatasetInfo(
        "isl_phone", "isl_phone", "CC BY 4.0", True,
        "phone front-camera frames of one woman signing near her face", (), ("signs",)),
    "closeup_finger_counts": DatasetInfo(
        "closeup_finger_counts", "closeup_finger_counts", "CC BY 4.0", True,
        "close-up phone photos of one hand counting 1-5, many people", ("train", "valid"), ("finger_counts",)),
    "closeup_open_hands": DatasetInfo(
        "closeup_open_hands", "closeup_open_hands", "CC BY 4.0", True,
        "close-ups of open hands of several people (oriented boxes)", ("train", "valid"), ()),
    "asl_signers_studio": DatasetInfo(
        "asl_signers_studio", "asl_signers_studio", "doubtful (re-shared dictionary video frames)", False,
        "many ASL signers, upper body, hands near the face, studio backdrops (pseudo-labels only)", (), (),
        notes="validation and experiments only, never in a shipped model"),
    "selfie_people": DatasetInfo(
        "selfie_people", "selfie_people", "CC BY 4.0", True,
        "phone selfies, mostly faces without hands (hard negatives; MediaPipe misses a few hands)", (), ()),
    "driver_cam": DatasetInfo(
        "driver_cam", "driver_cam", "CC BY 4.0", True,
        "one man in a car seen by a dash camera, mostly no hands (hard negatives)", (), ()),
}


def _voc_boxes(path: Path) -> tuple[list, list]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise DataFormatError(f"{path}: malformed Pascal VOC xml ({e})") from e
    boxes, names = [], []
    for obj in root.iter("object"):
        bb = obj.find("bndbox")
        if bb is None:
            raise DataFormatError(f"{path}: an <object> without <bndbox>")
        try:
            b = [float(bb.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax")]
        except (AttributeError, TypeError, ValueError) as e:
            raise DataFormatError(f"{path}: bad <bndbox> values ({e})") from e
        boxes.append(b)
        names.append((obj.findtext("name") or "").strip())
    return boxes, names


def _yolo_boxes(path: Path, w: int, h: int, names: list[str], oriented: bool) -> tuple[list, list]:
    boxes, classes = [], []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            try:
                c = int(parts[0])
                v = np.asarray([float(x) for x in parts[1:]], np.float64)
                if oriented:
                    if len(v) != 8:
                        raise ValueError(f"{len(v) + 1} fields, expected 9 (cls x1 y1 .. x4 y4)")
                    xs, ys = v[0::2] * w, v[1::2] * h
                    b = [xs.min(), ys.min(), xs.max(), ys.max()]
                else:
                    if len(v) != 4:
                        raise ValueError(f"{len(v) + 1} fields, expected 5 (class cx cy w h)")
                    cx, cy, bw, bh = v
                    b = [(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h]
                if not np.all(np.isfinite(b)):
                    raise ValueError("non-finite box")
            except ValueError as e:
                raise DataFormatError(f"{path}:{lineno}: malformed YOLO label ({e})") from e
            boxes.append([float(max(0, b[0])), float(max(0, b[1])), float(min(w, b[2])), float(min(h, b[3]))])
            classes.append(names[c] if 0 <= c < len(names) else str(c))
    return boxes, classes


def _inside_fraction(kp: np.ndarray, box, margin: float = 0.1) -> float:
    bw, bh = box[2] - box[0], box[3] - box[1]
    x, y = kp[:, 0], kp[:, 1]
    ok = ((x >= box[0] - margin * bw) & (x <= box[2] + margin * bw)
          & (y >= box[1] - margin * bh) & (y <= box[3] + margin * bh))
    return float(ok.mean())


def _scene_sample(img_path: Path, rel: str, set_name: str, pseudo: dict | None, human, classes,
                  label_set, load: bool, split: str | None) -> Sample:
    rec = pseudo.get(rel) if pseudo is not None else None
    image = load_image(img_path) if load else None
    size = image.shape[:2] if rec is None and image is not None else _image_size(str(img_path), rec)
    if image is not None and image.shape[:2] != size:
        raise DataFormatError(f"{img_path}: image is {image.shape[1]}x{image.shape[0]} but its pseudo-label "
                              f"record says {size[1]}x{size[0]}")
    kp = np.zeros((0, 21, 3), np.float32)
    hands: list = []
    if rec is not None and len(rec["keypoints"]):
        keep = _dedupe_hands(rec["keypoints"])
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
            fr = [_inside_fraction(k, b) for b in hb]
            j = int(np.argmax(fr)) if fr else -1
            s.extras["hand_labels"].append(mapped[j] if j >= 0 and fr[j] >= 0.6 else None)
        s.extras["missed_boxes"] = np.asarray(
            [b for b in hb if not any(_inside_fraction(k, b, 0.15) >= 0.6 for k in kp)], np.float32).reshape(-1, 4)
    else:
        s.extras["human_boxes"] = None
    return s


def load_scene_set(name: str, split: str | None = None, root=None, *, load_image: bool = True,
                   pseudo_labels: bool = True, **_ignored) -> list[Sample]:
    """All samples of one scene set (``split``: ``"train"`` / ``"valid"`` where
    the set has them, None for all)."""
    from .real import _root_of

    if name not in _LAYOUT:
        raise KeyError(f"unknown scene set {name!r}: known are {sorted(_LAYOUT)}")
    layout, fmt, splits, label_set = _LAYOUT[name]
    base = _root_of(name, root)
    pseudo = _pseudo_for_folder(base, pseudo_labels)
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
        img_dir = _require_dir(d / "images", f"{name} images folder")
        for img in _list_images(img_dir):
            rel = f"{prefix}images/{img.name}"
            human = classes = None
            if fmt is not None:
                rec = pseudo.get(rel) if pseudo else None
                if fmt == "voc":
                    lbl = d / "labels" / (img.stem + ".xml")
                    human, classes = _voc_boxes(lbl) if lbl.is_file() else ([], [])
                else:
                    lbl = d / "labels" / (img.stem + ".txt")
                    h, w = _image_size(str(img), rec)
                    human, classes = (_yolo_boxes(lbl, w, h, names, fmt == "obb") if lbl.is_file() else ([], []))
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
    reader.__doc__ = f"{SCENE_DATASET_INFO[name].description} (see :func:`load_scene_set`)."
    return reader


SCENE_READERS = {n: _make_reader(n) for n in _LAYOUT}
SCENE_SETS = tuple(_LAYOUT)
#: the scene sets used to validate (the issue's "validation parts the project can see")
SCENE_VALIDATION = (("webcam_finger_counts", "valid"), ("webcam_signs", "valid"), ("asl_signers_studio", None))


def _register() -> None:
    from . import real as _real

    _real._register_scene_sets()


_register()
