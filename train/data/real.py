"""Readers for the close-up sets of ``../shared/data`` (one hand filling a
photo, landmark CSVs, human-keypoint samples); the camera scenes are in
:mod:`~handsdk.train.data.scenes`, the file formats in
:mod:`~handsdk.train.data.formats`, the table of sets and label sets in
:mod:`~handsdk.train.data.catalog`, and :func:`handsdk.train.data.registry.load_dataset`
loads any set by name.

Every reader yields :class:`~handsdk.train.data.sample.Sample` records with RGB
uint8 images (or ``image=None`` with ``load_image=False``; see
:func:`~handsdk.train.data.formats.load_image`), boxes and keypoints in pixels
of the image as stored, and a canonical ``label`` / ``label_set`` (see
:data:`~handsdk.train.data.catalog.LABEL_SETS` and the mapping notes below).

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
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import numpy as np

from handsdk.keypoints import NUM_KEYPOINTS

from .catalog import DATASET_INFO, LABEL_SETS, dataset_folder, hash_split
from .formats import (DataFormatError, folder_pseudo_labels, human_sample, image_sample, list_images, natural_key,
                      read_class_folders, read_coco_keypoints, read_label_file, read_landmark_csv, read_names_yaml,
                      read_yolo, require_dir, require_file, snake_case)
from .sample import Sample

# --------------------------------------------------------------------------
# label mapping

COMMANDS_MAP = {"open": "open_palm", "close": "fist", "pointer": "point", "ok": "ok"}


def _asl_letter_or_extra(name: str):
    n = name.strip()
    if len(n) == 1 and n.isalpha():
        return n.upper(), "asl_letters"
    return snake_case(n), "asl_alphabet_extra"


def csv_label_map(author: str, raw_labels: list[str], ids: Iterable[int] = ()) -> tuple[str, dict[int, str]]:
    """(label_set, {class id: canonical label}) for one CSV author (see module doc)."""
    a = author.replace("zoo_", "")
    ids = sorted(set(ids) | set(range(len(raw_labels))))
    if a in ("Kazuhito00", "kinivi"):
        m = {}
        for i in ids:
            raw = raw_labels[i] if i < len(raw_labels) else ""
            m[i] = COMMANDS_MAP.get(raw.replace("\ufeff", "").strip().lower(), snake_case(raw) or f"class_{i}")
        return "commands", m
    if a == "DiaboloKiat":
        return "number_signs", {i: (raw_labels[i].replace("\ufeff", "").strip() if i < len(raw_labels)
                                  else f"class_{i}") for i in ids}
    m, seen = {}, set()
    for i in ids:
        raw = raw_labels[i] if i < len(raw_labels) else ""
        name = snake_case(raw) or f"class_{i}"
        if name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        m[i] = name
    return f"csv_{a.lower()}", m


# --------------------------------------------------------------------------
# the close-up sets


def _splits(name: str, split, splits: tuple[str, ...], note: str = "") -> tuple:
    """The splits of set ``name`` to read: all for None / "all", else ``split`` (one of ``splits``)."""
    if split in (None, "all"):
        return splits
    if split not in splits:
        raise ValueError(f"{name} has splits {' and '.join(map(repr, splits))}{note}, not {split!r}")
    return (split,)


def asl_letters(split: str | None = None, root=None, *, load_image: bool = True,
                pseudo_labels: bool = True) -> list[Sample]:
    base = dataset_folder("asl_letters", root)
    names = read_names_yaml(base / "data.yaml")
    pseudo = folder_pseudo_labels(base, pseudo_labels)
    out = []
    for sp in _splits("asl_letters", split, ("train", "valid"), " (test is held out)"):
        for s in read_yolo(base, sp, names=names, source="asl_letters", label_set="asl_letters",
                           pseudo=pseudo, load_image=load_image, label_map=lambda n: n.upper()):
            s.extras["split"] = sp
            out.append(s)
    return out


def sign_language_digits(split: str | None = None, root=None, *, load_image: bool = True,
                         pseudo_labels: bool = True, valid_fraction: float = 0.15) -> list[Sample]:
    base = dataset_folder("sign_language_digits", root)
    pseudo = folder_pseudo_labels(base, pseudo_labels)
    return list(read_class_folders(base, source="sign_language_digits", label_set="asl_digits",
                                   pseudo=pseudo, load_image=load_image,
                                   select=lambda rel: hash_split(rel, split, valid_fraction)))


def asl_alphabet_subset(split: str | None = None, root=None, *, load_image: bool = True,
                        pseudo_labels: bool = True) -> list[Sample]:
    base = dataset_folder("asl_alphabet_subset", root)
    pseudo = folder_pseudo_labels(base, pseudo_labels)
    out = []
    for sp in _splits("asl_alphabet_subset", split, ("train", "test")):
        sub = f"asl_alphabet_{sp}/asl_alphabet_{sp}"
        for s in read_class_folders(base / sub, source="asl_alphabet_subset", label_map=_asl_letter_or_extra,
                                    pseudo=pseudo, pseudo_prefix=sub + "/", load_image=load_image):
            s.extras["split"] = sp
            out.append(s)
    return out


def asl_two_signers(split: str | None = None, root=None, *, load_image: bool = True,
                    pseudo_labels: bool = True) -> list[Sample]:
    base = dataset_folder("asl_two_signers", root)
    pseudo = folder_pseudo_labels(base, pseudo_labels)
    signers = sorted(d.name for d in base.iterdir() if d.is_dir()) if split in (None, "all") else [split]
    out = []
    for signer in signers:
        d = require_dir(base / signer, f"asl_two_signers signer folder {signer!r}")
        for img in sorted(list_images(d), key=lambda p: natural_key(p.name)):
            letter = img.name[0]
            if not letter.isalpha():
                raise DataFormatError(f"{img}: file name does not start with a letter")
            s = image_sample(img, f"{signer}/{img.name}", source="asl_two_signers", label=letter.upper(),
                              label_set="asl_letters", pseudo=pseudo, load=load_image,
                              extras={"signer": signer, "split": signer})
            out.append(s)
    return out


#: mmpose's RHD test file lists each finger tip first (wrist, thumb4..thumb1, ...)
RHD_ORDER = [0] + [f * 4 + j for f in range(5) for j in (4, 3, 2, 1)]
#: InterHand2.6M joint order: per hand thumb4..thumb1, index4..1, ..., pinky4..1, wrist
_IH_ORDER = [20] + [f * 4 + j for f in range(5) for j in (3, 2, 1, 0)]


def _read_interhand(d: Path, *, load_image: bool, pseudo, prefix: str) -> list[Sample]:
    try:
        data = json.loads(require_file(d / "test_interhand2.6m_data.json").read_text())
        cams = json.loads(require_file(d / "test_interhand2.6m_camera.json").read_text())
        joints = json.loads(require_file(d / "test_interhand2.6m_joint_3d.json").read_text())
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
        s = human_sample(d / im["file_name"], prefix + im["file_name"], kps, hands, im,
                         source="hand_keypoints_gt", load=load_image)
        s.extras["hand_type"] = anns.get(im["id"], {}).get("hand_type")
        out.append(s)
    return out


def _read_wholebody(jp: Path, *, load_image: bool, pseudo, prefix: str) -> list[Sample]:
    try:
        d = json.loads(require_file(jp, "COCO-WholeBody json").read_text())
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
        out.append(human_sample(jp.parent / im["file_name"], prefix + im["file_name"], [h[0] for h in hands],
                                [h[1] for h in hands], im, source="hand_keypoints_gt", load=load_image))
    return out


def hand_keypoints_gt(split: str | None = None, root=None, *, load_image: bool = True,
                      pseudo_labels: bool = True) -> list[Sample]:
    """Human 21-keypoint hands, converted to MediaPipe order (RHD and
    InterHand2.6M files list tips first and are re-ordered). ``split`` = one
    subset name. Pseudo-labels are attached in ``extras['pseudo_keypoints']``
    for comparison, never in place of the human keypoints."""
    base = dataset_folder("hand_keypoints_gt", root)
    pseudo = folder_pseudo_labels(base, pseudo_labels)
    subsets = DATASET_INFO["hand_keypoints_gt"].splits if split in (None, "all") else (split,)
    out = []
    for sub in subsets:
        d = base / sub
        if sub in ("freihand", "onehand10k", "panoptic", "rhd"):
            ss = read_coco_keypoints(d / f"test_{sub}.json", source="hand_keypoints_gt", load_image=load_image,
                                     order=RHD_ORDER if sub == "rhd" else None, pseudo=pseudo,
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
    base = dataset_folder("gesture_keypoints_csv", root)
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
    base = dataset_folder("gesture_keypoints_csv", root)
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
    with open(require_file(path, "landmark CSV"), encoding="utf-8-sig") as f:
        for line in f:
            head = line.split(",", 1)[0].strip()
            if head.isdigit():
                ids.add(int(head))
    return ids


#: the close-up readers by set name (the registry's, with the scene sets')
CLOSEUP_READERS = {
    "asl_letters": asl_letters,
    "sign_language_digits": sign_language_digits,
    "asl_two_signers": asl_two_signers,
    "asl_alphabet_subset": asl_alphabet_subset,
    "gesture_keypoints_csv": gesture_keypoints_csv,
    "hand_keypoints_gt": hand_keypoints_gt,
}

__all__ = [
    "CLOSEUP_READERS", "COMMANDS_MAP", "RHD_ORDER", "asl_alphabet_subset", "asl_letters", "asl_two_signers",
    "csv_authors", "csv_label_map", "gesture_keypoints_csv", "hand_keypoints_gt", "sign_language_digits",
]
