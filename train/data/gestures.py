"""Command-gesture keypoints from every shippable real source, mapped onto
the ``commands`` set by pose (issue 13).

Each source gives one-hand records (keypoints, handedness, command label,
source name, the source's own class name). The mapping below was decided by
drawing each source class's MediaPipe skeletons and reading its finger states
(``finger_states``), never by its name alone: authors' names mean different
poses ("back" is a four-finger hand for AladdinT, an open palm for
fredericomcorda). A class whose pose does not match one command (sideways
two fingers, mixed "direction" hands, a cupped "ball" hand ...) is left out
rather than forced into ``none``; ``none`` gets only real hands that are
clearly no command (O / 7 / 8 number signs, claw, L-shape, pinky-only, the
bunched "cookie" hand, and ASL letters C, O, X, L, I).

Commands set (:data:`COMMAND_LABELS`): none, open_palm (five fingers),
fist, point (index alone, any direction), victory (index + middle, spread or
together), three (any three fingers: thumb-index-middle or index-middle-ring),
four (index..pinky, thumb folded), thumbs_up, thumbs_down, ok (thumb-index
ring, three fingers up), call, i_love_you, pinch (synthetic only).

Per source (raw class -> command):

* ``gesture_keypoints_csv`` authors (no handedness; rows are wrist-relative):

  - Kazuhito00: Open open_palm, Close fist, Pointer point;
  - kinivi: OK ok (its other rows copy Kazuhito00 and are dropped);
  - AladdinT: advance fist, back four, down point, up victory; left/right
    (two fingers sideways) left out;
  - DiaboloKiat (number signs): 0 none (O), 1 point, 2 victory, 3 three,
    4 four, 5 open_palm, 6 three (W), 7 none, 8 none, 9 ok;
  - NongPO: clear fist, memmory victory, save open_palm, write point; open
    (three or four fingers) left out;
  - fredericomcorda: back / forward open_palm, down / left / up point,
    land ok, rotate none (pinky alone); right (sideways thumb), takeoff
    (thumb half out) left out;
  - gabesf: fica open_palm, sentar / deitar point, sim thumbs_up, nao
    thumbs_down, biscoito none (bunched fingertips); bola (cupped),
    dar_a_pata (flat, sideways), sem_comando (mixed, incl. open hands) left out;
  - sanghabahn: go / jump open_palm, stop / stop_3 fist; back (thumb up or
    sideways) left out;
  - thomasbridgemanatu: thanks thumbs_up; neutral (loose fist), direction and
    stop (mixed) left out;
  - vincentvilo: neutral / tilt open_palm, class 4 ("FILLER 2") victory,
    claw none, pinch none (it is an L: index and thumb apart); 

* photo sets (MediaPipe pseudo-labels, every hand with the class of the
  human box that holds it, ``extras["hand_labels"]``; handedness known):

  - webcam_finger_counts (train + valid): 0 fist, 1 point, 2 victory,
    3 three or ok (two thirds of its "3" hands are the thumb-index ring with
    middle, ring and pinky up: the ok pose; split per hand by the
    thumb-index distance), 4 four, 5 open_palm;
  - closeup_finger_counts (train + valid): 1 point, 2 victory, 3 three,
    4 four, 5 open_palm;
  - webcam_signs: hello open_palm, yes fist, good thumbs_up, i_love_you;
    thanks (flat hand, tilted), no (index + middle onto the thumb, the shape
    of a "three") left out;
  - isl_phone: hello open_palm, yes fist, i_love_you; thanks, please, no left
    out;
  - asl_letters (train + valid): A / S fist, B four, V victory, W three,
    Y call; none: C, O, X, L, I;
  - sign_language_digits (218 signers, ASL digits): as DiaboloKiat's number
    signs (0 / 7 / 8 none, 1 point, 2 victory, 3 / 6 three, 4 four,
    5 open_palm, 9 ok).

The photo-set hands carry human labels of the *image* region (a count, a
sign word) and MediaPipe's keypoints, which are sometimes wrong on
close-ups; a hand is kept only when its four long fingers' states
(:func:`finger_states`) agree with the command (``check=True``, the default;
the dropped counts are in :func:`command_rows`' report). CSV rows are not
filtered.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from handsdk.keypoints import batch_keypoint_features
from handsdk.train.models.gesture.augment import direction_free_half, rotate_keypoints, thumbs_flipped

COMMAND_LABELS = ("none", "open_palm", "fist", "point", "victory", "three", "four", "thumbs_up",
                  "thumbs_down", "ok", "call", "i_love_you", "pinch")

#: csv author -> {author's class (snake_case, see real.csv_label_map) -> command}; absent = left out
CSV_COMMANDS: dict[str, dict[str, str]] = {
    "Kazuhito00": {"open_palm": "open_palm", "fist": "fist", "point": "point"},
    "kinivi": {"ok": "ok"},
    "AladdinT": {"advance": "fist", "back": "four", "down": "point", "up": "victory"},
    "DiaboloKiat": {"0": "none", "1": "point", "2": "victory", "3": "three", "4": "four", "5": "open_palm",
                    "6": "three", "7": "none", "8": "none", "9": "ok"},
    "NongPO": {"clear": "fist", "memmory": "victory", "save": "open_palm", "write": "point"},
    "fredericomcorda": {"back": "open_palm", "forward": "open_palm", "down": "point", "left": "point",
                        "up": "point", "land": "ok", "rotate": "none"},
    "gabesf": {"fica": "open_palm", "sentar": "point", "deitar": "point", "sim": "thumbs_up",
               "nao": "thumbs_down", "biscoito": "none"},
    "sanghabahn": {"go": "open_palm", "jump": "open_palm", "stop": "fist", "stop_3": "fist"},
    "thomasbridgemanatu": {"thanks": "thumbs_up"},
    "vincentvilo": {"neutral": "open_palm", "tilt": "open_palm", "class_5": "victory", "claw": "none",
                    "pinch": "none"},
}

#: photo set -> {the set's class (map_scene_label) -> command}; "3?" = three or ok by the thumb
SCENE_COMMANDS: dict[str, dict[str, str]] = {
    "webcam_finger_counts": {"0": "fist", "1": "point", "2": "victory", "3": "3?", "4": "four",
                             "5": "open_palm"},
    "closeup_finger_counts": {"1": "point", "2": "victory", "3": "three", "4": "four", "5": "open_palm"},
    "webcam_signs": {"hello": "open_palm", "yes": "fist", "good": "thumbs_up", "i_love_you": "i_love_you"},
    "isl_phone": {"hello": "open_palm", "yes": "fist", "i_love_you": "i_love_you"},
}

#: sign_language_digits digit -> command (ASL digits, as DiaboloKiat's number signs)
DIGIT_COMMANDS: dict[str, str] = dict(CSV_COMMANDS["DiaboloKiat"])

#: asl_letters letter -> command
ASL_COMMANDS: dict[str, str] = {"A": "fist", "S": "fist", "B": "four", "V": "victory", "W": "three", "Y": "call",
                                "C": "none", "O": "none", "X": "none", "L": "none", "I": "none"}

#: the default sources (all shippable: Apache-2.0, MIT, CC BY 4.0, Public Domain)
CSV_SOURCES = tuple(f"csv:{a}" for a in CSV_COMMANDS)
PHOTO_SOURCES = ("webcam_finger_counts", "closeup_finger_counts", "webcam_signs", "isl_phone", "asl_letters",
                 "sign_language_digits")
ALL_SOURCES = CSV_SOURCES + PHOTO_SOURCES

#: expected states of index, middle, ring, pinky (1 extended, 0 curled; None: not checked)
_EXPECTED = {"fist": (0, 0, 0, 0), "point": (1, 0, 0, 0), "victory": (1, 1, 0, 0), "four": (1, 1, 1, 1),
             "open_palm": (1, 1, 1, 1), "ok": (0, 1, 1, 1), "call": (0, 0, 0, 1), "i_love_you": (1, 0, 0, 1),
             "thumbs_up": (0, 0, 0, 0), "thumbs_down": (0, 0, 0, 0)}


def finger_states(kp) -> np.ndarray:
    """(N, 4) bool: index, middle, ring, pinky extended (tip farther from the
    wrist than 1.15 x its PIP joint). ``kp``: (N, 21, 2+) any unit."""
    k = np.asarray(kp, np.float64)[..., :2]
    w = k[:, 0]
    out = []
    for tip, pip_ in ((8, 6), (12, 10), (16, 14), (20, 18)):
        out.append(np.linalg.norm(k[:, tip] - w, axis=1) > 1.15 * np.linalg.norm(k[:, pip_] - w, axis=1))
    return np.stack(out, 1)


def thumb_index_ring(kp) -> np.ndarray:
    """(N,) bool: the thumb tip touches the index tip (distance < 0.35 x the
    wrist-to-middle-knuckle length)."""
    k = np.asarray(kp, np.float64)[..., :2]
    palm = np.linalg.norm(k[:, 9] - k[:, 0], axis=1) + 1e-9
    return np.linalg.norm(k[:, 4] - k[:, 8], axis=1) / palm < 0.35


def _agrees(kp, label) -> np.ndarray:
    fs = finger_states(kp)
    if label == "three":  # thumb-index-middle or index-middle-ring
        return ((fs == (1, 1, 0, 0)).all(1) & ~thumb_index_ring(kp)) | (fs == (1, 1, 1, 0)).all(1)
    exp = _EXPECTED.get(label)
    if exp is None:
        return np.ones(len(fs), bool)
    ok = (fs == np.array(exp, bool)).all(1)
    if label == "ok":
        ok &= thumb_index_ring(kp)
    return ok


@dataclass
class GestureRows:
    """One-hand rows: keypoints (N, 21, 3) (pixels or CSV units), handedness
    (N,) "Left"/"Right"/None, labels (N,) command names, sources (N,),
    raw (N,) the source's own class names."""

    keypoints: np.ndarray
    handedness: np.ndarray
    labels: np.ndarray
    sources: np.ndarray
    raw: np.ndarray
    report: dict = field(default_factory=dict)
    paths: np.ndarray | None = None  # image of each row (photo sets)

    def __len__(self):
        return len(self.labels)

    def features(self) -> np.ndarray:
        """The shared feature (:func:`handsdk.keypoint_features`), (N, 21, 2)."""
        return batch_keypoint_features(self.keypoints, list(self.handedness))

    def subset(self, mask) -> "GestureRows":
        m = np.asarray(mask)
        return GestureRows(self.keypoints[m], self.handedness[m], self.labels[m], self.sources[m], self.raw[m],
                           paths=None if self.paths is None else self.paths[m])

    @staticmethod
    def concat(parts) -> "GestureRows":
        parts = [p for p in parts if len(p)]
        if not parts:
            return GestureRows(np.zeros((0, 21, 3), np.float32), *(np.zeros(0, object) for _ in range(4)))
        return GestureRows(np.concatenate([p.keypoints for p in parts]),
                           *(np.concatenate([getattr(p, a) for p in parts]) for a in
                             ("handedness", "labels", "sources", "raw")))


def _rows(kps, hands, labels, source, raw) -> GestureRows:
    n = len(labels)
    return GestureRows(np.asarray(kps, np.float32).reshape(n, 21, 3), np.array(hands, object).reshape(n),
                       np.array(labels, object).reshape(n), np.array([source] * n, object),
                       np.array(raw, object).reshape(n))


def csv_rows(author: str, root=None) -> GestureRows:
    from . import real

    table = CSV_COMMANDS[author]
    ss = real.gesture_keypoints_csv(author, root, on_bad_row="skip")
    keep = [s for s in ss if s.label in table]
    return _rows([s.keypoints[0] for s in keep], [None] * len(keep), [table[s.label] for s in keep],
                 f"csv:{author}", [s.label for s in keep])


def photo_rows(name: str, root=None, *, check: bool = True, exclude_splits=(), splits=None) -> GestureRows:
    """Every labelled MediaPipe hand of a photo set, mapped (see module doc);
    ``exclude_splits`` (e.g. ``("valid",)``): leave out the images of those splits
    of the set (a model to be validated end to end on them must not train on them);
    ``splits``: keep only the images of those splits (a set without splits has none)."""
    from .registry import load_dataset

    exclude_splits = tuple(exclude_splits or ())

    def samples():
        return [s for s in load_dataset(name, None, root, load_image=False)
                if s.extras.get("split") not in exclude_splits and (splits is None or s.extras.get("split") in splits)]

    kps, hands, labs, raws, paths = [], [], [], [], []
    if name in ("asl_letters", "sign_language_digits"):
        table = ASL_COMMANDS if name == "asl_letters" else DIGIT_COMMANDS
        for s in samples():
            if s.label in table and len(s.keypoints):
                kps.append(s.keypoints[0])
                hands.append(s.handedness[0] if s.handedness else None)
                labs.append(table[s.label])
                raws.append(s.label)
                paths.append(s.path)
    else:
        table = SCENE_COMMANDS[name]
        for s in samples():
            for k, h, lab in zip(s.keypoints, s.handedness, s.extras.get("hand_labels") or []):
                if lab in table:
                    kps.append(k)
                    hands.append(h)
                    labs.append(table[lab])
                    raws.append(lab)
                    paths.append(s.path)
    rows = _rows(kps, hands, labs, name, raws)
    rows.paths = np.array(paths, object)
    if not len(rows):
        return rows
    if "3?" in set(rows.labels):
        q = rows.labels == "3?"
        ring = thumb_index_ring(rows.keypoints)
        rows.labels[q & ring] = "ok"
        rows.labels[q & ~ring] = "three"
    if check:
        good = np.ones(len(rows), bool)
        for lab in set(rows.labels):
            m = rows.labels == lab
            good[m] = _agrees(rows.keypoints[m], lab)
        dropped = {str(lab): int(((rows.labels == lab) & ~good).sum()) for lab in sorted(set(rows.labels))}
        rows = rows.subset(good)
        rows.report = {"dropped_disagreeing": dropped}
    return rows


def command_rows(sources=ALL_SOURCES, root=None, *, check: bool = True, exclude_splits=(),
                 splits=None, bundle=None) -> GestureRows:
    """The rows of ``sources`` (``csv:<author>`` or a photo set name; ``exclude_splits``
    and ``splits``: see :func:`photo_rows`; with ``splits`` the CSV sources, which have
    none, are left out). With ``bundle`` the photo sets' rows have that bundle's own
    keypoints (:func:`pipeline_rows`) and the CSV sources (keypoints without images) are
    left out."""
    parts, report = [], {}
    for src in sources:
        if src.startswith("csv:") and (splits is not None or bundle is not None):
            continue
        if src.startswith("csv:"):
            r = csv_rows(src[4:], root)
        elif bundle is not None:
            r = pipeline_rows(src, bundle, root, check=check, exclude_splits=exclude_splits, splits=splits)
        else:
            r = photo_rows(src, root, check=check, exclude_splits=exclude_splits, splits=splits)
        report[src] = dict(r.report, rows=len(r), classes={str(k): int(v) for k, v in
                                                          zip(*np.unique(r.labels.astype(str), return_counts=True))})
        parts.append(r)
    out = GestureRows.concat(parts)
    out.report = report
    return out


def letter_rows(dataset: str, split=None, root=None) -> GestureRows:
    """ASL letter hands (one per image, MediaPipe keypoints) of ``dataset``
    (asl_letters, asl_two_signers, asl_alphabet_subset), J and Z dropped."""
    from .registry import load_dataset

    kps, hands, labs, paths = [], [], [], []
    for s in load_dataset(dataset, split, root, load_image=False):
        if s.label and len(s.label) == 1 and s.label not in "JZ" and len(s.keypoints):
            kps.append(s.keypoints[0])
            hands.append(s.handedness[0] if s.handedness else None)
            labs.append(s.label)
            paths.append(s.path)
    rows = _rows(kps, hands, labs, dataset if split is None else f"{dataset}/{split}", labs)
    rows.paths = np.array(paths, object)
    return rows


def pipeline_rows(name: str, bundle, root=None, *, check: bool = True, min_iou: float = 0.3,
                  cache: bool = True, exclude_splits=(), splits=None) -> GestureRows:
    """The rows of photo set ``name`` (see :func:`photo_rows`) with the SDK's
    own keypoints and handedness: ``bundle``'s detector + landmarker run over
    each image (IMAGE mode, up to two hands), each labelled MediaPipe hand
    matched to the found hand whose keypoint box overlaps it most (IoU >=
    ``min_iou``). Hands the SDK does not find are left out (their count is in
    ``report["missed"]``). Cached per bundle hash and set under
    ``$HANDSDK_CACHE`` (default ``~/.cache/handsdk``). ``exclude_splits``,
    ``splits``: see :func:`photo_rows`."""
    return match_pipeline(photo_rows(name, root, check=check, exclude_splits=exclude_splits, splits=splits),
                          name, None, bundle, root, min_iou=min_iou, cache=cache)


def match_pipeline(mp: GestureRows, name: str, split, bundle, root=None, *, min_iou: float = 0.3,
                   cache: bool = True) -> GestureRows:
    """``mp`` (rows with ``paths``, from dataset ``name``/``split``) with the
    keypoints replaced by the SDK's own (see :func:`pipeline_rows`)."""
    import hashlib
    import json
    import os
    from pathlib import Path

    from handsdk.boxes import box_iou
    from handsdk.keypoints import keypoints_box

    from .formats import load_image
    from .registry import load_dataset

    bundle = Path(bundle)
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()[:16]
    cpath = Path(os.environ.get("HANDSDK_CACHE", Path.home() / ".cache" / "handsdk")) / "pipeline_gestures" / \
        f"{digest}_{name}{'_' + str(split) if split else ''}.json"
    found = json.loads(cpath.read_text()) if cache and cpath.is_file() else None
    if found is None:
        from handsdk import GestureRecognizer, GestureRecognizerOptions

        found = {}
        rec = GestureRecognizer(GestureRecognizerOptions(bundle=str(bundle), color_order="RGB", max_hands=2))
        try:
            for smp in load_dataset(name, split, root, load_image=False):
                if not len(smp.keypoints):
                    continue
                img = load_image(smp.path)
                res = rec.recognize(img)
                found[smp.path] = [{"kp": np.asarray(h.keypoints[:, :2]).round(2).tolist(),
                                    "hand": h.handedness.name} for h in res.hands]
        finally:
            rec.close()
        if cache:
            cpath.parent.mkdir(parents=True, exist_ok=True)
            cpath.write_text(json.dumps(found))
    kps, hands, keep = [], [], []
    by_path = {p: [np.asarray(h["kp"], np.float32) for h in hs] for p, hs in found.items()}
    hand_of = {p: [h["hand"] for h in hs] for p, hs in found.items()}
    missed = 0
    for i in range(len(mp)):
        p = mp.paths[i] if mp.paths is not None else None
        cands = by_path.get(p, [])
        b = keypoints_box(mp.keypoints[i][:, :2])
        ious = [float(box_iou(b, keypoints_box(c))[0, 0]) for c in cands]
        j = int(np.argmax(ious)) if ious else -1
        if j < 0 or ious[j] < min_iou:
            missed += 1
            continue
        kps.append(np.concatenate([cands[j], np.ones((21, 1), np.float32)], 1))
        hands.append(hand_of[p][j])
        keep.append(i)
    keep = np.asarray(keep, np.int64)
    out = GestureRows(np.asarray(kps, np.float32).reshape(-1, 21, 3), np.array(hands, object),
                      mp.labels[keep], mp.sources[keep], mp.raw[keep])
    out.report = {"mediapipe_rows": len(mp), "missed": missed, "bundle": str(bundle)}
    return out


def rows_as_samples(rows: GestureRows, label_set: str = "commands"):
    """One keypoint-only :class:`Sample` per row (for the trainer's pools)."""
    from .sample import Sample

    return [Sample(image=None, keypoints=rows.keypoints[i][None], keypoint_source="mediapipe",
                   handedness=[rows.handedness[i]], label=str(rows.labels[i]), label_set=label_set,
                   source=str(rows.sources[i]), path=f"{rows.sources[i]}#{i}",
                   extras={"raw_label": rows.raw[i], "has_image": False})
            for i in range(len(rows))]


def gesture_source_samples(spec: str, options: dict | None = None, rng=None, root=None, bundle=None):
    """The trainer's ``gestures:<spec>`` data source (see
    :mod:`handsdk.train.data.sources`): ``spec`` = ``commands`` (every source of
    :data:`ALL_SOURCES`) or a comma-separated list of sources. Options:
    ``exclude`` (sources to hold out), ``balance`` (``class_source``: resample
    so that each class has the same mass, shared equally by its sources;
    ``class``; ``none``: the rows as they are), ``num`` (rows after
    resampling; default: as many as there are), ``check``, ``exclude_splits``
    (e.g. ``[valid]``: the photo sets' validation splits left out) and ``splits``
    (e.g. ``[valid]``: only those; see :func:`photo_rows`), ``pipeline`` (true: the
    photo sets' hands with the SDK's own keypoints from ``bundle``, the config's
    ``data.pipeline``, matched to the labelled hands, :func:`pipeline_rows`; the CSV
    sources have no images and are left out)."""
    from handsdk.train.gesture_eval import sample_weights

    o = dict(options or {})
    srcs = ALL_SOURCES if spec in ("", "commands", "all") else tuple(x for x in spec.split(",") if x)
    exclude = o.get("exclude") or ()
    exclude = (exclude,) if isinstance(exclude, str) else tuple(exclude)
    unknown = [x for x in tuple(srcs) + exclude if x not in ALL_SOURCES]
    if unknown:
        raise ValueError(f"unknown gesture source(s) {unknown}; known: {list(ALL_SOURCES)}")
    splits = o.get("exclude_splits") or ()
    splits = (splits,) if isinstance(splits, str) else tuple(splits)
    only = o.get("splits")
    only = None if only is None else ((only,) if isinstance(only, str) else tuple(only))
    if o.get("pipeline") and bundle is None:
        raise ValueError("gestures: source with pipeline: true needs a bundle to run: set data.pipeline")
    rows = command_rows([x for x in srcs if x not in exclude], root, check=bool(o.get("check", True)),
                        exclude_splits=splits, splits=only, bundle=bundle if o.get("pipeline") else None)
    rng = rng if rng is not None else np.random.default_rng(int(o.get("seed", 0)))
    if o.get("thumbs_flip", True):
        rows = GestureRows.concat([rows, flip_thumbs(rows)])
    balance = o.get("balance", "class_source")
    if balance != "none" and len(rows):
        w = sample_weights(rows.labels, rows.sources, balance)
        rows = rows.subset(rng.choice(len(rows), int(o.get("num") or len(rows)), p=w))
    wide = float(o.get("wide_rotation_deg", 90.0))
    if wide > 0 and len(rows):
        turn = direction_free_half(rows.labels, rng)
        rows.keypoints = rows.keypoints.copy()
        rows.keypoints[turn] = rotate_keypoints(rows.keypoints[turn], rng.uniform(-wide, wide, int(turn.sum())))
    return rows_as_samples(rows)


def flip_thumbs(rows: GestureRows) -> GestureRows:
    """thumbs_up rows turned by 180 degrees as thumbs_down rows and back
    (source ``<source>/rot180``)."""
    m, turned, labels = thumbs_flipped(rows.keypoints, rows.labels)
    if not m.any():
        return GestureRows.concat([])
    return GestureRows(turned, rows.handedness[m].copy(), labels.astype(object),
                       np.char.add(rows.sources[m].astype(str), "/rot180").astype(object), rows.raw[m].copy())


__all__ = ["flip_thumbs", "gesture_source_samples", "match_pipeline", "pipeline_rows", "ALL_SOURCES", "ASL_COMMANDS", "COMMAND_LABELS", "CSV_COMMANDS", "CSV_SOURCES", "GestureRows",
           "PHOTO_SOURCES", "SCENE_COMMANDS", "command_rows", "csv_rows", "finger_states", "letter_rows",
           "photo_rows", "rows_as_samples", "thumb_index_ring"]
