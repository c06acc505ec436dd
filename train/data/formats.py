"""The file formats of the real hand data (and of user folders): images, the
MediaPipe pseudo-labels (``mediapipe_landmarks.jsonl``), YOLO / Pascal VOC /
COCO keypoint labels, landmark CSVs and label files, read into
:class:`~handsdk.train.data.sample.Sample` records.

Keypoints are (N, 21, 3): x, y in pixels, visibility (1 visible, 0 labelled but
occluded / outside, -1 absent). MediaPipe's relative depth is kept in
``extras["keypoints_z"]``. With ``load_image=False`` a sample's image is read
later (:func:`ensure_image`).
"""
from __future__ import annotations

import csv
import json
import os
import re
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from handsdk.boxes import overlap
from handsdk.keypoints import NUM_KEYPOINTS, keypoints_box

from .sample import Sample

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
PSEUDO_LABEL_FILE = "mediapipe_landmarks.jsonl"


class DataFormatError(ValueError):
    """A data file that exists but cannot be parsed (names the file/line)."""


# --------------------------------------------------------------------------
# files and images


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
    return to_rgb(img, "BGR")


def ensure_image(sample: Sample) -> Sample:
    """Load ``sample.image`` from ``sample.path`` if it was read lazily."""
    if sample.image is None and sample.path and sample.extras.get("has_image", True):
        sample.image = load_image(sample.path)
    return sample


def image_size(path: str, pseudo: dict | None = None) -> tuple[int, int]:
    """(height, width) of an image: from its pseudo-label record when there is
    one (checked against the file elsewhere), else by decoding it."""
    if pseudo is not None and "width" in pseudo and "height" in pseudo:
        return int(pseudo["height"]), int(pseudo["width"])
    img = load_image(path)
    return img.shape[0], img.shape[1]


def require_file(path: Path, what: str = "file") -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    return path


def require_dir(path: Path, what: str = "folder") -> Path:
    if not path.is_dir():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    return path


def snake_case(name: str) -> str:
    s = name.replace("\ufeff", "").strip().lower()
    s = re.sub(r"[^0-9a-z]+", "_", s).strip("_")
    return s


def list_images(folder: Path, extensions=IMAGE_EXTENSIONS) -> list[Path]:
    exts = tuple(e.lower() for e in extensions)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in exts)


def natural_key(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def text_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """(line number, line) of every non-blank line of a UTF-8 text file."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                yield lineno, line


# --------------------------------------------------------------------------
# MediaPipe pseudo-labels


def read_pseudo_labels(path: str | os.PathLike) -> dict[str, dict]:
    """Read a ``mediapipe_landmarks.jsonl`` into {relative image path: record}.

    Each record gets ``keypoints`` (N, 21, 3) float32 with visibility 1,
    ``z`` (N, 21), ``handedness`` (list) and ``handedness_score``.
    """
    p = require_file(Path(path), "pseudo-label file")
    out: dict[str, dict] = {}
    for lineno, line in text_lines(p):
        try:
            rec = json.loads(line.strip())
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


def folder_pseudo_labels(folder: Path, use: bool) -> dict[str, dict] | None:
    """The pseudo-labels of ``folder`` (its ``mediapipe_landmarks.jsonl``), or
    None when ``use`` is false or the folder has none."""
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
    keep = dedupe_hands(kp)
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


def dedupe_hands(kp: np.ndarray, iou: float = 0.5) -> list[int]:
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
        inside = [inside_fraction(k, b) for k in kp]
        j = int(np.argmax(inside))
        if inside[j] < 0.6 or j in order:
            return None
        order.append(j)
    return order


def image_sample(path: Path, rel: str, *, source: str, label, label_set, pseudo, load: bool,
                 boxes=None, extras=None) -> Sample:
    """A sample of image ``path`` (``rel``: its key in ``pseudo``, whose
    record is attached when there is one); ``load=False`` leaves the image
    unread (``extras["size"]`` then comes from the record)."""
    s = Sample(image=load_image(path) if load else None,
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


def human_sample(path: Path, rel: str, keypoints, handedness, image: dict, *, source: str, load: bool,
                 boxes=None) -> Sample:
    """A sample of human-labelled hands (``keypoints`` (N, 21, 3) with
    visibility) in image ``path`` of size ``image["height"]`` x
    ``image["width"]``; ``boxes`` default to the visible keypoints' boxes."""
    s = image_sample(path, rel, source=source, label=None, label_set=None, pseudo=None, load=load,
                     boxes=None if boxes is None else np.asarray(boxes, np.float32))
    s.keypoints = np.asarray(keypoints, np.float32)
    if boxes is None:
        s.boxes = np.stack([keypoints_box(k, k[:, 2]) for k in s.keypoints])
    s.handedness = list(handedness)
    s.keypoint_source = "human"
    s.extras["size"] = (int(image["height"]), int(image["width"]))
    return s


# --------------------------------------------------------------------------
# generic readers (also for user data)


def read_yolo(folder: str | os.PathLike, split: str, *, names: list[str], source: str = "yolo",
              label_set: str | None = None, pseudo: dict | None = None, pseudo_prefix: str = "",
              load_image: bool = True, label_map: Callable[[str], str] | None = None) -> Iterator[Sample]:
    """YOLO split ``folder/split/{images,labels}``: one ``class cx cy w h``
    (normalised) line per box. ``label`` is the first box's class name."""
    base = Path(folder)
    img_dir = require_dir(base / split / "images", f"YOLO images folder of split {split!r}")
    lbl_dir = base / split / "labels"
    for img in list_images(img_dir):
        rel = f"{pseudo_prefix}{split}/images/{img.name}"
        lbl = lbl_dir / (img.stem + ".txt")
        rec = None if pseudo is None else pseudo.get(rel)
        s = image_sample(img, rel, source=source, label=None, label_set=label_set, pseudo=None, load=load_image)
        h, w = s.image.shape[:2] if s.image is not None else image_size(str(img), rec)
        boxes, classes = read_yolo_boxes(lbl, w, h, names, strict=True) if lbl.is_file() else ([], [])
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
    base = require_dir(Path(folder), "class folder root")
    classes = sorted((d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".")),
                     key=lambda d: natural_key(d.name))
    if not classes:
        raise FileNotFoundError(f"no class sub-folders in {str(base)!r} (expected <root>/<class>/<images>)")
    for d in classes:
        lab = label_map(d.name) if label_map else d.name
        lset = label_set
        if isinstance(lab, tuple):
            lab, lset = lab
        for img in sorted(list_images(d, extensions), key=lambda p: natural_key(p.name)):
            rel = f"{pseudo_prefix}{d.name}/{img.name}"
            if select is not None and not select(rel):
                continue
            yield image_sample(img, rel, source=source, label=lab, label_set=lset, pseudo=pseudo,
                                load=load_image)


def read_image_folder(folder: str | os.PathLike, *, label_set: str = "custom", load_image: bool = True,
                      pseudo_labels: bool = True, extensions=IMAGE_EXTENSIONS) -> list[Sample]:
    """A user's folder of gestures: ``<folder>/<gesture name>/*.jpg|png|...``.
    Labels are the folder names (snake_case). A ``mediapipe_landmarks.jsonl``
    in ``folder`` (paths relative to it) is attached when present."""
    base = Path(folder)
    pseudo = folder_pseudo_labels(base, pseudo_labels) if base.is_dir() else None
    out = list(read_class_folders(base, source=base.name, label_set=label_set, label_map=snake_case,
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
    jp = require_file(Path(json_path), "COCO json")
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
        s = human_sample(path, rel, kps, hand, im, source=source, load=load_image, boxes=boxes)
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
    p = require_file(Path(csv_path), "landmark CSV")
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
    p = require_file(Path(path), "label file")
    with open(p, encoding="utf-8-sig") as f:
        return [ln.strip().replace("\ufeff", "") for ln in f.read().splitlines()]




def read_names_yaml(path: Path) -> list[str]:
    """The class names of a YOLO ``data.yaml`` (a list, or a dict by id)."""
    require_file(path, "YOLO data.yaml")
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


# --------------------------------------------------------------------------
# box label files (the scene sets)


def read_voc_boxes(path: Path) -> tuple[list, list]:
    """Pixel boxes and class names of a Pascal VOC xml."""
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


def read_yolo_boxes(path: Path, w: int, h: int, names: list[str], *, oriented: bool = False,
                    strict: bool = False) -> tuple[list, list]:
    """Pixel boxes (x0, y0, x1, y1) and class names of a YOLO label file: one
    ``class cx cy w h`` line (normalised) per box, or with ``oriented``
    ``class x1 y1 .. x4 y4`` (made axis-aligned). ``strict``: a class id
    outside ``names`` or a negative size is an error and boxes stay as
    written; otherwise boxes are clipped to the image and an unknown class id
    is kept as its number."""
    boxes, classes = [], []
    for lineno, line in text_lines(path):
        parts = line.split()
        try:
            c, b = _strict_yolo_box(parts, w, h, len(names)) if strict else _yolo_box(parts, w, h, oriented)
        except ValueError as e:
            raise DataFormatError(f"{path}:{lineno}: malformed YOLO label ({e})") from e
        boxes.append(b)
        classes.append(names[c] if 0 <= c < len(names) else str(c))
    return boxes, classes


def _strict_yolo_box(parts: list[str], w: int, h: int, num_classes: int) -> tuple[int, list]:
    if len(parts) != 5:
        raise ValueError(f"{len(parts)} fields, expected 5 (class cx cy w h)")
    c = int(parts[0])
    cx, cy, bw, bh = (float(v) for v in parts[1:])
    if not (0 <= c < num_classes):
        raise ValueError(f"class {c} outside 0..{num_classes - 1}")
    if not all(np.isfinite([cx, cy, bw, bh])) or bw < 0 or bh < 0:
        raise ValueError("bad box values")
    return c, [(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h]


def _yolo_box(parts: list[str], w: int, h: int, oriented: bool) -> tuple[int, list]:
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
    return c, [float(max(0, b[0])), float(max(0, b[1])), float(min(w, b[2])), float(min(h, b[3]))]


def inside_fraction(kp: np.ndarray, box, margin: float = 0.1) -> float:
    """Fraction of the keypoints inside ``box`` grown by ``margin`` of its size."""
    bw, bh = box[2] - box[0], box[3] - box[1]
    x, y = kp[:, 0], kp[:, 1]
    ok = ((x >= box[0] - margin * bw) & (x <= box[2] + margin * bw)
          & (y >= box[1] - margin * bh) & (y <= box[3] + margin * bh))
    return float(ok.mean())


__all__ = [
    "DataFormatError", "IMAGE_EXTENSIONS", "PSEUDO_LABEL_FILE", "load_image", "ensure_image", "image_size",
    "list_images", "read_pseudo_labels", "folder_pseudo_labels", "attach_pseudo_labels", "dedupe_hands",
    "inside_fraction", "image_sample", "human_sample", "read_yolo", "read_class_folders", "read_image_folder",
    "read_coco_keypoints", "read_landmark_csv", "read_label_file", "read_names_yaml", "read_voc_boxes",
    "read_yolo_boxes",
]
