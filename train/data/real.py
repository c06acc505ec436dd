"""Readers for the real hand data in ``../shared/data`` (and for user folders).

Every reader yields :class:`~handsdk.train.data.sample.Sample` records with RGB
uint8 images (or ``image=None`` with ``load_image=False``; see
:func:`load_image`), boxes and keypoints in pixels of the image as stored, and
a canonical ``label`` / ``label_set`` (see :data:`LABEL_SETS` and the mapping
notes below).

Data root
---------
``data_root(root)``: the argument, else ``$HANDSDK_DATA``, else
``../shared/data`` relative to the current directory, else relative to the
repository root. Nothing is ever copied into the repository.

Label mapping
-------------
* ``asl_letters`` (set ``"asl_letters"``): 'A'..'Z' (uppercase), from data.yaml
  (YOLO), folder names (asl_alphabet_subset) or the file name's first letter
  (asl_two_signers). asl_alphabet_subset's extra classes ``del``, ``nothing``
  and ``space`` go to the set ``"asl_alphabet_extra"`` (``nothing`` images have
  no hand).
* ``asl_digits``: '0'..'9' (sign_language_digits folders).
* ``gesture_keypoints_csv``: Kazuhito00 / kinivi go to ``"commands"``:
  Open -> open_palm, Close -> fist, Pointer -> point, OK -> ok. The number
  signs of zoo_DiaboloKiat go to ``"number_signs"`` ('0'..'9'; its label file
  also lists a-z, which never occur). Every other author keeps their own set
  ``"csv_<author>"`` (lowercase) with labels lower-cased snake_case
  (``"Dar a Pata"`` -> ``dar_a_pata``); a repeated name gets the class id as a
  suffix (sanghabahn's second ``STOP`` -> ``stop_3``) and an id without a name
  becomes ``class_<id>``. Their meanings differ per author, so they are not
  merged into ``commands`` here; :mod:`handsdk.train.data.gestures` maps every
  author's classes (and the photo sets' finger counts and signs) onto the
  commands set by pose (``gestures:commands``, the source the command
  GestureNet trains on).

Keypoints are (N, 21, 3): x, y in pixels, visibility (1 visible, 0 labelled but
occluded / outside, -1 absent). MediaPipe's relative depth is kept in
``extras["keypoints_z"]``.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from handsdk.boxes import overlap
from handsdk.keypoints import NUM_KEYPOINTS, keypoints_box

from .sample import Sample

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
PSEUDO_LABEL_FILE = "mediapipe_landmarks.jsonl"


class DataFormatError(ValueError):
    """A data file that exists but cannot be parsed (names the file/line)."""


# --------------------------------------------------------------------------
# data root


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def data_root(root: str | os.PathLike | None = None, *, must_exist: bool = True) -> Path:
    """Resolve the real-data root: :func:`handsdk.paths.data_root` (``root``
    argument, ``$HANDSDK_DATA``, ``./../shared/data``, ``<repo>/../shared/data``;
    ``FileNotFoundError`` naming what was tried)."""
    from handsdk.paths import data_root as _data_root

    return _data_root(root, must_exist=must_exist, repo=_repo_root())


def has_data(root=None, name: str | None = None) -> bool:
    """True when the data root (and dataset ``name`` in it) exists."""
    try:
        r = data_root(root)
    except FileNotFoundError:
        return False
    if name is None:
        return True
    return (r / DATASET_INFO[name].folder).is_dir()


# --------------------------------------------------------------------------
# small helpers


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file into HxWx3 uint8 RGB; clear error if it cannot be read."""
    import cv2

    from handsdk.image import to_rgb

    p = str(path)
    if not os.path.isfile(p):
        raise FileNotFoundError(f"image file {p!r} does not exist")
    img = cv2.imread(p, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise DataFormatError(f"cannot decode image file {p!r} (corrupt or not an image)")
    if img.ndim == 3 and img.shape[2] == 4:
        return to_rgb(img, "BGR")
    return to_rgb(img, "BGR")


def ensure_image(sample: Sample) -> Sample:
    """Load ``sample.image`` from ``sample.path`` if it was read lazily."""
    if sample.image is None and sample.path and sample.extras.get("has_image", True):
        sample.image = load_image(sample.path)
    return sample


def _image_size(path: str, pseudo: dict | None = None) -> tuple[int, int]:
    """(height, width) of an image: from its pseudo-label record when there is
    one (checked against the file elsewhere), else by decoding it."""
    if pseudo is not None and "width" in pseudo and "height" in pseudo:
        return int(pseudo["height"]), int(pseudo["width"])
    img = load_image(path)
    return img.shape[0], img.shape[1]


def _require_file(path: Path, what: str = "file") -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    return path


def _require_dir(path: Path, what: str = "folder") -> Path:
    if not path.is_dir():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    return path


def _snake(name: str) -> str:
    s = name.replace("\ufeff", "").strip().lower()
    s = re.sub(r"[^0-9a-z]+", "_", s).strip("_")
    return s


def _hash_fraction(key: str) -> float:
    h = hashlib.sha1(key.encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") / 2 ** 64


def _hash_split(key: str, split: str | None, valid_fraction: float) -> bool:
    """Stable train/valid split by file-name hash for sets without splits."""
    if split in (None, "all"):
        return True
    is_valid = _hash_fraction(key) < valid_fraction
    if split == "valid":
        return is_valid
    if split == "train":
        return not is_valid
    raise ValueError(f"unknown split {split!r}: expected None, 'all', 'train' or 'valid'")


def _list_images(folder: Path, extensions=IMAGE_EXTENSIONS) -> list[Path]:
    exts = tuple(e.lower() for e in extensions)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in exts)


def _natural_key(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


# --------------------------------------------------------------------------
# MediaPipe pseudo-labels


def read_pseudo_labels(path: str | os.PathLike) -> dict[str, dict]:
    """Read a ``mediapipe_landmarks.jsonl`` into {relative image path: record}.

    Each record gets ``keypoints`` (N, 21, 3) float32 with visibility 1,
    ``z`` (N, 21), ``handedness`` (list) and ``handedness_score``.
    """
    p = _require_file(Path(path), "pseudo-label file")
    out: dict[str, dict] = {}
    with open(p, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
                image = rec["image"]
                w, h = int(rec["width"]), int(rec["height"])
                hands = rec["hands"]
                kps, zs, hd, hs = [], [], [], []
                for hand in hands:
                    k = np.asarray(hand["keypoints"], np.float32)
                    if k.shape != (NUM_KEYPOINTS, 3):
                        raise ValueError(f"keypoints of shape {k.shape}, expected (21, 3)")
                    if not np.isfinite(k).all():
                        raise ValueError("non-finite keypoints")
                    kps.append(np.concatenate([k[:, :2], np.ones((NUM_KEYPOINTS, 1), np.float32)], 1))
                    zs.append(k[:, 2])
                    h_ = hand.get("handedness")
                    if h_ not in ("Left", "Right", None):
                        raise ValueError(f"handedness {h_!r}")
                    hd.append(h_)
                    hs.append(float(hand.get("handedness_score", np.nan)))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
                raise DataFormatError(f"{p}:{lineno}: malformed pseudo-label record ({e})") from e
            out[image.replace("\\", "/")] = {
                "width": w, "height": h,
                "keypoints": np.asarray(kps, np.float32).reshape(-1, NUM_KEYPOINTS, 3),
                "z": np.asarray(zs, np.float32).reshape(-1, NUM_KEYPOINTS),
                "handedness": hd, "handedness_score": hs,
            }
    return out


def _pseudo_for_folder(folder: Path, use: bool) -> dict[str, dict] | None:
    if not use:
        return None
    p = folder / PSEUDO_LABEL_FILE
    return read_pseudo_labels(p) if p.is_file() else None


def attach_pseudo_labels(sample: Sample, record: dict | None, *, keep_boxes: bool = True) -> Sample:
    """Attach one pseudo-label record to an image sample.

    Keypoints (and handedness) come from MediaPipe. When the sample already has
    boxes (YOLO) they are kept (``keep_boxes``) and the keypoints are added;
    otherwise the boxes are the keypoints' tight boxes. If the image is loaded
    and its size differs from the record's, keypoints are rescaled.
    """
    sample.extras["pseudo_labelled"] = record is not None
    if record is None:
        return sample
    kp = record["keypoints"].copy()
    keep = _dedupe_hands(kp)
    if len(keep) != len(kp):
        record = dict(record, keypoints=record["keypoints"][keep], z=record["z"][keep],
                      handedness=[record["handedness"][i] for i in keep],
                      handedness_score=[record["handedness_score"][i] for i in keep])
        kp = kp[keep]
        sample.extras["pseudo_duplicates_dropped"] = True
    if sample.image is not None:
        h, w = sample.image.shape[:2]
        if (h, w) != (record["height"], record["width"]):
            kp[..., 0] *= w / record["width"]
            kp[..., 1] *= h / record["height"]
    if len(kp) == 0 and sample.keypoint_source == "none":
        sample.extras["pseudo_hands"] = 0
        return sample
    sample.extras["pseudo_hands"] = len(kp)
    sample.extras["keypoints_z"] = record["z"].copy()
    sample.extras["handedness_score"] = list(record["handedness_score"])
    if len(sample.boxes) and keep_boxes:
        # keep the human boxes; the keypoints ride along (matched by order when
        # counts agree, else by the box containing most keypoints)
        sample.extras["pseudo_keypoints"] = kp
        sample.extras["pseudo_handedness"] = list(record["handedness"])
        matched = _match_keypoints_to_boxes(sample.boxes, kp)
        if matched is not None:
            order = matched
            sample.keypoints = kp[order]
            sample.handedness = [record["handedness"][i] for i in order]
            sample.keypoint_source = "mediapipe"
        return sample
    sample.keypoints = kp
    sample.boxes = np.stack([keypoints_box(k) for k in kp]) if len(kp) else np.zeros((0, 4), np.float32)
    sample.handedness = list(record["handedness"])
    sample.keypoint_source = "mediapipe"
    return sample


def _dedupe_hands(kp: np.ndarray, iou: float = 0.5) -> list[int]:
    """MediaPipe sometimes reports one hand twice (seen in sign_language_digits):
    keep the first of hands whose keypoint boxes overlap by more than ``iou``
    of the smaller box."""
    boxes = [keypoints_box(k) for k in kp]
    keep: list[int] = []
    for i, b in enumerate(boxes):
        if all(overlap(b, boxes[j]) <= iou for j in keep):
            keep.append(i)
    return keep


def _match_keypoints_to_boxes(boxes: np.ndarray, kp: np.ndarray):
    """Index of the pseudo hand for each box (or None if some box has no hand
    whose keypoints mostly lie inside it)."""
    if len(kp) == 0:
        return None
    order = []
    for b in boxes:
        inside = [(np.mean((k[:, 0] >= b[0] - 0.1 * (b[2] - b[0])) & (k[:, 0] <= b[2] + 0.1 * (b[2] - b[0]))
                           & (k[:, 1] >= b[1] - 0.1 * (b[3] - b[1])) & (k[:, 1] <= b[3] + 0.1 * (b[3] - b[1]))))
                  for k in kp]
        j = int(np.argmax(inside))
        if inside[j] < 0.6 or j in order:
            return None
        order.append(j)
    return order


def _image_sample(path: Path, rel: str, *, source: str, label, label_set, pseudo, load_image_: bool,
                  boxes=None, extras=None) -> Sample:
    s = Sample(image=load_image(path) if load_image_ else None,
               boxes=np.zeros((0, 4), np.float32) if boxes is None else boxes,
               label=label, label_set=label_set, source=source, path=str(path),
               extras=dict(extras or {}))
    s.extras["relpath"] = rel
    rec = None if pseudo is None else pseudo.get(rel)
    if pseudo is not None:
        attach_pseudo_labels(s, rec)
        if rec is not None and s.image is None:
            s.extras["size"] = (rec["height"], rec["width"])
    if s.image is not None:
        s.extras["size"] = s.image.shape[:2]
    return s


# --------------------------------------------------------------------------
# generic readers (also for user data)


def read_yolo(folder: str | os.PathLike, split: str, *, names: list[str], source: str = "yolo",
              label_set: str | None = None, pseudo: dict | None = None, pseudo_prefix: str = "",
              load_image: bool = True, label_map: Callable[[str], str] | None = None) -> Iterator[Sample]:
    """YOLO split ``folder/split/{images,labels}``: one ``class cx cy w h``
    (normalised) line per box. ``label`` is the first box's class name."""
    base = Path(folder)
    img_dir = _require_dir(base / split / "images", f"YOLO images folder of split {split!r}")
    lbl_dir = base / split / "labels"
    for img in _list_images(img_dir):
        rel = f"{pseudo_prefix}{split}/images/{img.name}"
        lbl = lbl_dir / (img.stem + ".txt")
        rec = None if pseudo is None else pseudo.get(rel)
        s = _image_sample(img, rel, source=source, label=None, label_set=label_set, pseudo=None,
                          load_image_=load_image)
        h, w = s.image.shape[:2] if s.image is not None else _image_size(str(img), rec)
        boxes, classes = [], []
        if lbl.is_file():
            with open(lbl, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    parts = line.split()
                    if not parts:
                        continue
                    try:
                        if len(parts) != 5:
                            raise ValueError(f"{len(parts)} fields, expected 5 (class cx cy w h)")
                        c = int(parts[0])
                        cx, cy, bw, bh = (float(v) for v in parts[1:])
                        if not (0 <= c < len(names)):
                            raise ValueError(f"class {c} outside 0..{len(names) - 1}")
                        if not all(np.isfinite([cx, cy, bw, bh])) or bw < 0 or bh < 0:
                            raise ValueError("bad box values")
                    except ValueError as e:
                        raise DataFormatError(f"{lbl}:{lineno}: malformed YOLO label ({e})") from e
                    boxes.append([(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h])
                    classes.append(names[c])
        s.boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        s.handedness = [None] * len(boxes)
        s.extras["box_classes"] = classes
        s.extras["size"] = (h, w)
        if classes:
            s.label = label_map(classes[0]) if label_map else classes[0]
        if pseudo is not None:
            attach_pseudo_labels(s, rec)
        yield s


def read_class_folders(folder: str | os.PathLike, *, source: str = "folder", label_set: str | None = None,
                       label_map: Callable[[str], str | tuple[str, str]] | None = None,
                       pseudo: dict | None = None, pseudo_prefix: str = "", load_image: bool = True,
                       extensions=IMAGE_EXTENSIONS, select: Callable[[str], bool] | None = None
                       ) -> Iterator[Sample]:
    """Folder-per-class images: ``folder/<class>/<image>``. ``label_map`` maps a
    folder name to a label (or to ``(label, label_set)``)."""
    base = _require_dir(Path(folder), "class folder root")
    classes = sorted((d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".")),
                     key=lambda d: _natural_key(d.name))
    if not classes:
        raise FileNotFoundError(f"no class sub-folders in {str(base)!r} (expected <root>/<class>/<images>)")
    for d in classes:
        lab = label_map(d.name) if label_map else d.name
        lset = label_set
        if isinstance(lab, tuple):
            lab, lset = lab
        for img in sorted(_list_images(d, extensions), key=lambda p: _natural_key(p.name)):
            rel = f"{pseudo_prefix}{d.name}/{img.name}"
            if select is not None and not select(rel):
                continue
            yield _image_sample(img, rel, source=source, label=lab, label_set=lset, pseudo=pseudo,
                                load_image_=load_image)


def read_image_folder(folder: str | os.PathLike, *, label_set: str = "custom", load_image: bool = True,
                      pseudo_labels: bool = True, extensions=IMAGE_EXTENSIONS) -> list[Sample]:
    """A user's folder of gestures: ``<folder>/<gesture name>/*.jpg|png|...``.
    Labels are the folder names (snake_case). A ``mediapipe_landmarks.jsonl``
    in ``folder`` (paths relative to it) is attached when present."""
    base = Path(folder)
    pseudo = _pseudo_for_folder(base, pseudo_labels) if base.is_dir() else None
    out = list(read_class_folders(base, source=base.name, label_set=label_set, label_map=_snake,
                                  pseudo=pseudo, load_image=load_image, extensions=extensions))
    if not out:
        raise FileNotFoundError(f"no images with extensions {extensions} in the class folders of {str(base)!r}")
    return out


def read_coco_keypoints(json_path: str | os.PathLike, *, source: str = "coco", load_image: bool = True,
                        image_dir: str | os.PathLike | None = None, order: list[int] | None = None,
                        pseudo: dict | None = None, pseudo_prefix: str = "") -> list[Sample]:
    """COCO-style 21-keypoint hand annotations (one hand per annotation,
    ``keypoints`` flat 63 or nested 21x3 as (x, y, v)). ``order[i]`` is the
    file's index of MediaPipe keypoint i (for files in another order). v > 0 ->
    visible (1), v == 0 -> absent (-1)."""
    jp = _require_file(Path(json_path), "COCO json")
    try:
        with open(jp, encoding="utf-8") as f:
            d = json.load(f)
        images = {im["id"]: im for im in d["images"]}
        anns = d["annotations"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise DataFormatError(f"{jp}: not a COCO keypoint json ({e})") from e
    idir = Path(image_dir) if image_dir is not None else jp.parent
    by_image: dict = {}
    for i, a in enumerate(anns):
        try:
            k = np.asarray(a["keypoints"], np.float32).reshape(NUM_KEYPOINTS, 3)
            img_id = a["image_id"]
            if img_id not in images:
                raise KeyError(f"image_id {img_id} not in images")
        except (KeyError, ValueError, TypeError) as e:
            raise DataFormatError(f"{jp}: annotation #{i} is malformed ({e})") from e
        by_image.setdefault(img_id, []).append((a, k))
    out = []
    for img_id, items in by_image.items():
        im = images[img_id]
        path = idir / im["file_name"]
        kps, boxes, hand = [], [], []
        for a, k in items:
            if order is not None:
                k = k[np.asarray(order)]
            vis = np.where(k[:, 2] > 0, 1.0, -1.0).astype(np.float32)
            kk = np.concatenate([k[:, :2], vis[:, None]], 1)
            kps.append(kk)
            boxes.append(keypoints_box(kk, vis) if (vis > 0).any() else _coco_box(a))
            ht = str(a.get("hand_type", "")).lower()
            hand.append({"left": "Left", "right": "Right"}.get(ht))
        rel = f"{pseudo_prefix}{im['file_name']}"
        s = _image_sample(path, rel, source=source, label=None, label_set=None, pseudo=None,
                          load_image_=load_image, boxes=np.asarray(boxes, np.float32))
        s.keypoints = np.asarray(kps, np.float32)
        s.handedness = hand
        s.keypoint_source = "human"
        s.extras["size"] = (int(im["height"]), int(im["width"]))
        if pseudo is not None and rel in pseudo:
            r = pseudo[rel]
            s.extras["pseudo_keypoints"] = r["keypoints"]
            s.extras["pseudo_handedness"] = r["handedness"]
        out.append(s)
    return out


def _coco_box(a) -> list[float]:
    x, y, w, h = (float(v) for v in a.get("bbox", (0, 0, 0, 0)))
    return [x, y, x + w, y + h]


def read_landmark_csv(csv_path: str | os.PathLike, labels: list[str] | None = None, *,
                      source: str = "gesture_keypoints_csv", author: str = "", label_set: str | None = None,
                      label_map: dict | None = None, on_bad_row: str = "raise",
                      skip_rows: set | None = None) -> list[Sample]:
    """Landmark CSV (Kazuhito00 format): ``class_id, x0, y0, ..., x20, y20``
    (wrist-relative, max-abs normalised). Keypoint-only samples (``image=None``)
    with keypoints in those normalised units and visibility 1.

    ``on_bad_row``: "raise" (``DataFormatError`` naming file:line), "warn" or "skip".
    """
    if on_bad_row not in ("raise", "warn", "skip"):
        raise ValueError("on_bad_row must be 'raise', 'warn' or 'skip'")
    p = _require_file(Path(csv_path), "landmark CSV")
    out = []
    with open(p, encoding="utf-8-sig", newline="") as f:
        for lineno, row in enumerate(csv.reader(f), 1):
            if not row or all(not c.strip() for c in row):
                continue
            if skip_rows is not None and ",".join(row) in skip_rows:
                continue
            try:
                if len(row) != 1 + 2 * NUM_KEYPOINTS:
                    raise ValueError(f"{len(row)} fields, expected {1 + 2 * NUM_KEYPOINTS} (class id + 21 x,y)")
                cid = int(row[0])
                xy = np.asarray([float(v) for v in row[1:]], np.float32).reshape(NUM_KEYPOINTS, 2)
                if not np.isfinite(xy).all():
                    raise ValueError("non-finite coordinates")
                if labels is not None and not (0 <= cid < len(labels)) and label_map is None:
                    raise ValueError(f"class id {cid} has no entry in the label file")
            except ValueError as e:
                msg = f"{p}:{lineno}: malformed landmark row ({e})"
                if on_bad_row == "raise":
                    raise DataFormatError(msg) from e
                if on_bad_row == "warn":
                    warnings.warn(msg, stacklevel=2)
                continue
            if label_map is not None and cid in label_map:
                lab = label_map[cid]
            elif labels is not None and 0 <= cid < len(labels):
                lab = labels[cid]
            else:
                lab = f"class_{cid}"
            kp = np.concatenate([xy, np.ones((NUM_KEYPOINTS, 1), np.float32)], 1)
            out.append(Sample(image=None, keypoints=kp[None], keypoint_source="mediapipe", handedness=[None],
                              label=lab, label_set=label_set, source=source, path=f"{p}:{lineno}",
                              extras={"author": author, "class_id": cid, "has_image": False}))
    return out


def read_label_file(path: str | os.PathLike) -> list[str]:
    p = _require_file(Path(path), "label file")
    with open(p, encoding="utf-8-sig") as f:
        return [ln.strip().replace("\ufeff", "") for ln in f.read().splitlines()]


# --------------------------------------------------------------------------
# label sets

ASL_LETTERS = tuple(chr(c) for c in range(ord("A"), ord("Z") + 1))
ASL_DIGITS = tuple(str(i) for i in range(10))
#: the commands set of the shipped GestureNet (issue 13); every source's mapping onto it, decided by
#: pose, is in :mod:`handsdk.train.data.gestures`
COMMANDS = ("none", "open_palm", "fist", "point", "victory", "three", "four", "thumbs_up", "thumbs_down", "ok",
            "call", "i_love_you", "pinch")
COMMANDS_MAP = {"open": "open_palm", "close": "fist", "pointer": "point", "ok": "ok"}

#: canonical label sets (ordered); per-author CSV sets are added by the reader
LABEL_SETS: dict[str, tuple[str, ...]] = {
    "asl_letters": ASL_LETTERS,
    "asl_digits": ASL_DIGITS,
    "asl_alphabet_extra": ("del", "nothing", "space"),
    "commands": COMMANDS,
    "number_signs": ASL_DIGITS,
}


def _asl_letter_or_extra(name: str):
    n = name.strip()
    if len(n) == 1 and n.isalpha():
        return n.upper(), "asl_letters"
    return _snake(n), "asl_alphabet_extra"


def csv_label_map(author: str, raw_labels: list[str], ids: Iterable[int] = ()) -> tuple[str, dict[int, str]]:
    """(label_set, {class id: canonical label}) for one CSV author (see module doc)."""
    a = author.replace("zoo_", "")
    ids = sorted(set(ids) | set(range(len(raw_labels))))
    if a in ("Kazuhito00", "kinivi"):
        m = {}
        for i in ids:
            raw = raw_labels[i] if i < len(raw_labels) else ""
            m[i] = COMMANDS_MAP.get(raw.replace("\ufeff", "").strip().lower(), _snake(raw) or f"class_{i}")
        return "commands", m
    if a == "DiaboloKiat":
        return "number_signs", {i: (raw_labels[i].replace("\ufeff", "").strip() if i < len(raw_labels)
                                  else f"class_{i}") for i in ids}
    m, seen = {}, set()
    for i in ids:
        raw = raw_labels[i] if i < len(raw_labels) else ""
        name = _snake(raw) or f"class_{i}"
        if name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        m[i] = name
    return f"csv_{a.lower()}", m


# --------------------------------------------------------------------------
# dataset readers (shared/data layout)


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    folder: str
    licence: str
    shippable: bool
    description: str
    splits: tuple[str, ...] = ()
    label_sets: tuple[str, ...] = ()
    keypoint_source: str = "mediapipe"
    notes: str = ""


DATASET_INFO: dict[str, DatasetInfo] = {
    "asl_letters": DatasetInfo(
        "asl_letters", "asl_letters", "Public Domain", True,
        "Roboflow ASL letters: one hand signing A-Z, YOLO boxes (+ MediaPipe keypoints)",
        ("train", "valid"), ("asl_letters",),
        notes="train = 504 photos x 3 augmentations (incl. flips); test split is held out"),
    "sign_language_digits": DatasetInfo(
        "sign_language_digits", "sign_language_digits", "Apache-2.0", True,
        "ASL digits 0-9, 218 signers, 100x100, hand fills the frame",
        ("train", "valid"), ("asl_digits",), notes="no official split: stable 15% hash split"),
    "asl_two_signers": DatasetInfo(
        "asl_two_signers", "asl_two_signers", "none stated", False,
        "static ASL letters (no J/Z), signer 'jack', 200x200 webcam frames",
        ("jack",), ("asl_letters",), notes="evaluation only: no licence, not for shipped models"),
    "asl_alphabet_subset": DatasetInfo(
        "asl_alphabet_subset", "asl_alphabet_subset", "GPL-2.0", False,
        "Kaggle ASL Alphabet subset: one signer, A-Z + del/nothing/space, 200x200",
        ("train", "test"), ("asl_letters", "asl_alphabet_extra"),
        notes="GPL-2.0: not used for the shipped (Apache-2.0) models"),
    "gesture_keypoints_csv": DatasetInfo(
        "gesture_keypoints_csv", "gesture_keypoints_csv", "Apache-2.0", True,
        "MediaPipe landmark CSVs (no images) of command gestures and number signs, 10 authors",
        (), ("commands", "number_signs"), notes="split = author name(s); kinivi rows duplicating "
        "Kazuhito00 are dropped"),
    "hand_keypoints_gt": DatasetInfo(
        "hand_keypoints_gt", "hand_keypoints_gt", "research-only samples (FreiHAND, OneHand10K, Panoptic, RHD, "
        "InterHand2.6M, COCO-WholeBody)", False,
        "~30 human-annotated 21-keypoint hands (mmpose test samples)",
        ("freihand", "onehand10k", "panoptic", "rhd", "interhand2.6m", "coco"), (), "human",
        notes="evaluation only"),
}


def _root_of(name: str, root) -> Path:
    r = data_root(root)
    d = r / DATASET_INFO[name].folder
    if not d.is_dir():
        raise FileNotFoundError(f"dataset {name!r} not found: {str(d)!r} does not exist (data root {str(r)!r})")
    return d


def _read_names_yaml(path: Path) -> list[str]:
    _require_file(path, "YOLO data.yaml")
    try:
        import yaml

        with open(path, encoding="utf-8") as f:
            names = yaml.safe_load(f)["names"]
    except ImportError:  # pragma: no cover - pyyaml is in the train extra
        m = re.search(r"names:\s*\[(.*?)\]", path.read_text(), re.S)
        if not m:
            raise DataFormatError(f"{path}: no 'names: [...]' list") from None
        names = [n.strip().strip("'\"") for n in m.group(1).split(",")]
    except Exception as e:
        raise DataFormatError(f"{path}: cannot read class names ({e})") from e
    if isinstance(names, dict):
        names = [names[k] for k in sorted(names)]
    return [str(n) for n in names]


def asl_letters(split: str | None = None, root=None, *, load_image: bool = True,
                pseudo_labels: bool = True) -> list[Sample]:
    base = _root_of("asl_letters", root)
    names = _read_names_yaml(base / "data.yaml")
    pseudo = _pseudo_for_folder(base, pseudo_labels)
    splits = ("train", "valid") if split in (None, "all") else (split,)
    out = []
    for sp in splits:
        if sp not in ("train", "valid"):
            raise ValueError(f"asl_letters has splits 'train' and 'valid' (test is held out), not {sp!r}")
        for s in read_yolo(base, sp, names=names, source="asl_letters", label_set="asl_letters",
                           pseudo=pseudo, load_image=load_image, label_map=lambda n: n.upper()):
            s.extras["split"] = sp
            out.append(s)
    return out


def sign_language_digits(split: str | None = None, root=None, *, load_image: bool = True,
                         pseudo_labels: bool = True, valid_fraction: float = 0.15) -> list[Sample]:
    base = _root_of("sign_language_digits", root)
    pseudo = _pseudo_for_folder(base, pseudo_labels)
    return list(read_class_folders(base, source="sign_language_digits", label_set="asl_digits",
                                   pseudo=pseudo, load_image=load_image,
                                   select=lambda rel: _hash_split(rel, split, valid_fraction)))


def asl_alphabet_subset(split: str | None = None, root=None, *, load_image: bool = True,
                        pseudo_labels: bool = True) -> list[Sample]:
    base = _root_of("asl_alphabet_subset", root)
    pseudo = _pseudo_for_folder(base, pseudo_labels)
    splits = ("train", "test") if split in (None, "all") else (split,)
    out = []
    for sp in splits:
        if sp not in ("train", "test"):
            raise ValueError(f"asl_alphabet_subset has splits 'train' and 'test', not {sp!r}")
        sub = f"asl_alphabet_{sp}/asl_alphabet_{sp}"
        for s in read_class_folders(base / sub, source="asl_alphabet_subset", label_map=_asl_letter_or_extra,
                                    pseudo=pseudo, pseudo_prefix=sub + "/", load_image=load_image):
            s.extras["split"] = sp
            out.append(s)
    return out


def asl_two_signers(split: str | None = None, root=None, *, load_image: bool = True,
                    pseudo_labels: bool = True) -> list[Sample]:
    base = _root_of("asl_two_signers", root)
    pseudo = _pseudo_for_folder(base, pseudo_labels)
    signers = sorted(d.name for d in base.iterdir() if d.is_dir()) if split in (None, "all") else [split]
    out = []
    for signer in signers:
        d = _require_dir(base / signer, f"asl_two_signers signer folder {signer!r}")
        for img in sorted(_list_images(d), key=lambda p: _natural_key(p.name)):
            letter = img.name[0]
            if not letter.isalpha():
                raise DataFormatError(f"{img}: file name does not start with a letter")
            s = _image_sample(img, f"{signer}/{img.name}", source="asl_two_signers", label=letter.upper(),
                              label_set="asl_letters", pseudo=pseudo, load_image_=load_image,
                              extras={"signer": signer, "split": signer})
            out.append(s)
    return out


#: mmpose's RHD test file lists each finger tip first (wrist, thumb4..thumb1, ...)
_RHD_ORDER = [0] + [f * 4 + j for f in range(5) for j in (4, 3, 2, 1)]
#: InterHand2.6M joint order: per hand thumb4..thumb1, index4..1, ..., pinky4..1, wrist
_IH_ORDER = [20] + [f * 4 + j for f in range(5) for j in (3, 2, 1, 0)]


def _read_interhand(d: Path, *, load_image: bool, pseudo, prefix: str) -> list[Sample]:
    try:
        data = json.loads(_require_file(d / "test_interhand2.6m_data.json").read_text())
        cams = json.loads(_require_file(d / "test_interhand2.6m_camera.json").read_text())
        joints = json.loads(_require_file(d / "test_interhand2.6m_joint_3d.json").read_text())
    except json.JSONDecodeError as e:
        raise DataFormatError(f"{d}: malformed InterHand2.6M json ({e})") from e
    anns = {a["image_id"]: a for a in data["annotations"]}
    out = []
    for im in data["images"]:
        cap, cam, frame = str(im["capture"]), str(im["camera"]), str(im["frame_idx"])
        c = cams[cap]
        rot = np.asarray(c["camrot"][cam], np.float64)
        pos = np.asarray(c["campos"][cam], np.float64)
        focal = np.asarray(c["focal"][cam], np.float64)
        pp = np.asarray(c["princpt"][cam], np.float64)
        j = joints[cap][frame]
        world = np.asarray(j["world_coord"], np.float64)
        valid = np.asarray(j["joint_valid"], np.float32).reshape(-1)
        camc = (rot @ (world - pos).T).T
        xy = camc[:, :2] / camc[:, 2:3] * focal + pp
        kps, hands = [], []
        for h, off in (("Right", 0), ("Left", 21)):
            idx = np.asarray(_IH_ORDER) + off
            v = valid[idx]
            if v.sum() < 5:
                continue
            k = np.concatenate([xy[idx], np.where(v > 0, 1.0, -1.0)[:, None]], 1).astype(np.float32)
            kps.append(k)
            hands.append(h)
        if not kps:
            continue
        s = _image_sample(d / im["file_name"], prefix + im["file_name"], source="hand_keypoints_gt",
                          label=None, label_set=None, pseudo=None, load_image_=load_image)
        s.keypoints = np.asarray(kps, np.float32)
        s.boxes = np.stack([keypoints_box(k, k[:, 2]) for k in s.keypoints])
        s.handedness = hands
        s.keypoint_source = "human"
        s.extras["size"] = (int(im["height"]), int(im["width"]))
        s.extras["hand_type"] = anns.get(im["id"], {}).get("hand_type")
        out.append(s)
    return out


def _read_wholebody(jp: Path, *, load_image: bool, pseudo, prefix: str) -> list[Sample]:
    try:
        d = json.loads(_require_file(jp, "COCO-WholeBody json").read_text())
    except json.JSONDecodeError as e:
        raise DataFormatError(f"{jp}: malformed json ({e})") from e
    images = {im["id"]: im for im in d["images"]}
    per: dict = {}
    for a in d["annotations"]:
        for side, name in (("lefthand", "Left"), ("righthand", "Right")):
            if not a.get(f"{side}_valid"):
                continue
            k = np.asarray(a[f"{side}_kpts"], np.float32).reshape(NUM_KEYPOINTS, 3)
            vis = np.where(k[:, 2] > 0, 1.0, -1.0).astype(np.float32)
            if (vis > 0).sum() < 5:
                continue
            per.setdefault(a["image_id"], []).append((np.concatenate([k[:, :2], vis[:, None]], 1), name))
    out = []
    for img_id, hands in per.items():
        im = images[img_id]
        s = _image_sample(jp.parent / im["file_name"], prefix + im["file_name"], source="hand_keypoints_gt",
                          label=None, label_set=None, pseudo=None, load_image_=load_image)
        s.keypoints = np.asarray([h[0] for h in hands], np.float32)
        s.boxes = np.stack([keypoints_box(k, k[:, 2]) for k in s.keypoints])
        s.handedness = [h[1] for h in hands]
        s.keypoint_source = "human"
        s.extras["size"] = (int(im["height"]), int(im["width"]))
        out.append(s)
    return out


def hand_keypoints_gt(split: str | None = None, root=None, *, load_image: bool = True,
                      pseudo_labels: bool = True) -> list[Sample]:
    """Human 21-keypoint hands, converted to MediaPipe order (RHD and
    InterHand2.6M files list tips first and are re-ordered). ``split`` = one
    subset name. Pseudo-labels are attached in ``extras['pseudo_keypoints']``
    for comparison, never in place of the human keypoints."""
    base = _root_of("hand_keypoints_gt", root)
    pseudo = _pseudo_for_folder(base, pseudo_labels)
    subsets = DATASET_INFO["hand_keypoints_gt"].splits if split in (None, "all") else (split,)
    out = []
    for sub in subsets:
        d = base / sub
        if sub in ("freihand", "onehand10k", "panoptic", "rhd"):
            ss = read_coco_keypoints(d / f"test_{sub}.json", source="hand_keypoints_gt", load_image=load_image,
                                     order=_RHD_ORDER if sub == "rhd" else None, pseudo=pseudo,
                                     pseudo_prefix=f"{sub}/")
        elif sub == "interhand2.6m":
            ss = _read_interhand(d, load_image=load_image, pseudo=pseudo, prefix=f"{sub}/")
        elif sub == "coco":
            ss = _read_wholebody(d / "test_coco_wholebody.json", load_image=load_image, pseudo=pseudo,
                                 prefix=f"{sub}/")
        else:
            raise ValueError(f"hand_keypoints_gt subsets are {DATASET_INFO['hand_keypoints_gt'].splits}, "
                             f"not {sub!r}")
        for s in ss:
            s.extras["split"] = sub
            if pseudo is not None:
                r = pseudo.get(s.extras.get("relpath", ""))
                if r is not None:
                    s.extras["pseudo_keypoints"] = r["keypoints"]
                    s.extras["pseudo_handedness"] = r["handedness"]
        out.extend(ss)
    return out


def csv_authors(root=None) -> list[str]:
    base = _root_of("gesture_keypoints_csv", root)
    return sorted((d.name.replace("zoo_", "") for d in base.iterdir()
                   if d.is_dir() and (d / "keypoint.csv").is_file()), key=str.lower)


def gesture_keypoints_csv(split: str | list | None = None, root=None, *, exclude: Iterable[str] = (),
                          on_bad_row: str = "warn", dedupe: bool = True, label_sets: Iterable[str] | None = None,
                          **_ignored) -> list[Sample]:
    """Keypoint-only samples from every author's ``keypoint.csv``.

    ``split``: an author name (``"Kazuhito00"``, ``"AladdinT"`` ...) or a list
    of them (None: all); ``exclude``: authors to hold out. ``extras['author']``
    names the author. ``dedupe`` drops kinivi's rows that copy Kazuhito00's.
    gabesf's one malformed row is warned about (``on_bad_row``).
    """
    base = _root_of("gesture_keypoints_csv", root)
    authors = csv_authors(root)
    want = authors if split in (None, "all") else ([split] if isinstance(split, str) else list(split))
    unknown = [a for a in list(want) + list(exclude) if a not in authors]
    if unknown:
        raise ValueError(f"unknown CSV author(s) {unknown}; authors are {authors}")
    want = [a for a in want if a not in set(exclude)]
    kaz = None
    out = []
    for a in want:
        d = base / a if (base / a).is_dir() else base / f"zoo_{a}"
        raw = read_label_file(d / "keypoint_classifier_label.csv")
        skip = None
        if dedupe and a == "kinivi" and (base / "Kazuhito00" / "keypoint.csv").is_file():
            if kaz is None:
                kaz = set((base / "Kazuhito00" / "keypoint.csv").read_text(encoding="utf-8-sig").splitlines())
            skip = kaz
        ids = _csv_ids(d / "keypoint.csv")
        lset, lmap = csv_label_map(a, raw, ids)
        if label_sets is not None and lset not in set(label_sets):
            continue
        LABEL_SETS.setdefault(lset, tuple(dict.fromkeys(lmap[i] for i in sorted(lmap))))
        ss = read_landmark_csv(d / "keypoint.csv", raw, source="gesture_keypoints_csv", author=a,
                               label_set=lset, label_map=lmap, on_bad_row=on_bad_row, skip_rows=skip)
        out.extend(ss)
    return out


def _csv_ids(path: Path) -> set[int]:
    ids = set()
    with open(_require_file(path, "landmark CSV"), encoding="utf-8-sig") as f:
        for line in f:
            head = line.split(",", 1)[0].strip()
            if head.isdigit():
                ids.add(int(head))
    return ids


# --------------------------------------------------------------------------
# registry

DATASETS: dict[str, Callable[..., list[Sample]]] = {
    "asl_letters": asl_letters,
    "sign_language_digits": sign_language_digits,
    "asl_two_signers": asl_two_signers,
    "asl_alphabet_subset": asl_alphabet_subset,
    "gesture_keypoints_csv": gesture_keypoints_csv,
    "hand_keypoints_gt": hand_keypoints_gt,
}


def _register_scene_sets() -> None:
    """The "people in view" sets (:mod:`handsdk.train.data.scenes`)."""
    from . import scenes

    if not hasattr(scenes, "SCENE_READERS"):
        return  # scenes is being imported and imports us: it registers itself when done
    DATASET_INFO.update(scenes.SCENE_DATASET_INFO)
    DATASETS.update(scenes.SCENE_READERS)
    for k, v in scenes.SCENE_LABELS.items():
        LABEL_SETS.setdefault(k, v)


_register_scene_sets()


def load_dataset(name: str, split=None, root=None, **kw) -> list[Sample]:
    """Load a registered dataset (``name`` in :data:`DATASETS`, optionally
    ``"name:split"``) or, when ``name`` is an existing folder, a user's
    folder-per-class images."""
    if name not in DATASETS and ":" in name and name.split(":", 1)[0] in DATASETS:
        name, split = name.split(":", 1)
    if name in DATASETS:
        return DATASETS[name](split, root, **kw)
    if Path(name).expanduser().is_dir():
        kw.pop("pseudo_labels", None)
        return read_image_folder(Path(name).expanduser(), load_image=kw.get("load_image", True))
    raise KeyError(f"unknown dataset {name!r}: known are {sorted(DATASETS)} (or pass a folder of "
                   f"<class>/<images>)")


def list_datasets(root=None) -> dict[str, bool]:
    """{dataset name: present under the data root}."""
    try:
        r = data_root(root)
    except FileNotFoundError:
        return {n: False for n in DATASETS}
    return {n: (r / DATASET_INFO[n].folder).is_dir() for n in DATASETS}


def shippable_datasets() -> list[str]:
    return [n for n, i in DATASET_INFO.items() if i.shippable]


# --------------------------------------------------------------------------
# held-out selectors


def split_by(samples: Iterable[Sample], key: Callable[[Sample], object], held_out) -> tuple[list, list]:
    """(kept, held) where held are samples with ``key(s)`` in ``held_out``."""
    held_set = {held_out} if isinstance(held_out, (str, int)) else set(held_out)
    kept, held = [], []
    for s in samples:
        (held if key(s) in held_set else kept).append(s)
    return kept, held


def holdout_author(samples, author) -> tuple[list, list]:
    """Hold out one (or several) CSV authors: (train, held-out)."""
    return split_by(samples, lambda s: s.extras.get("author"), author)


def holdout_signer(samples, signer) -> tuple[list, list]:
    return split_by(samples, lambda s: s.extras.get("signer"), signer)


def holdout_fraction(samples, fraction: float = 0.15, key: Callable[[Sample], str] | None = None):
    """Stable hash split: (train, held) with ``fraction`` held out by ``key``
    (default: the path)."""
    key = key or (lambda s: s.path)
    kept, held = [], []
    for s in samples:
        (held if _hash_fraction(key(s)) < fraction else kept).append(s)
    return kept, held


def label_counts(samples: Iterable[Sample]) -> dict:
    out: dict = {}
    for s in samples:
        out[s.label] = out.get(s.label, 0) + 1
    return out


__all__ = [
    "DataFormatError", "data_root", "has_data", "load_image", "ensure_image", "read_pseudo_labels",
    "attach_pseudo_labels", "read_yolo", "read_class_folders", "read_image_folder", "read_coco_keypoints",
    "read_landmark_csv", "read_label_file", "LABEL_SETS", "csv_label_map", "DatasetInfo", "DATASET_INFO",
    "DATASETS", "load_dataset", "list_datasets", "shippable_datasets", "split_by", "holdout_author",
    "holdout_signer", "holdout_fraction", "label_counts", "csv_authors", "IMAGE_EXTENSIONS",
]
