"""Model-agnostic training input pipelines (numpy generators + tf.data).

Three kinds of examples; the model code turns them into its own targets:

* :func:`frame_examples` - whole frames letterboxed to the detector input
  (``image`` float32 [0, 1] (h, w, 3) RGB, ``keypoints`` (max_hands, 21, 3)
  padded with visibility -1, ``boxes`` (max_hands, 4) x0 y0 x1 y1 pixels,
  ``handedness`` (max_hands,) 0 left / 1 right / -1 unknown or padding,
  ``num_hands``, ``source_index``).
* :func:`crop_examples` - one hand per example, cropped the runtime way
  (:func:`handsdk.image.crop_matrix` around :func:`keypoints_box` with scale
  1.4 and jittered scale/shift/rotation), ``keypoints`` (21, 3) in crop pixels,
  ``handedness``, ``presence`` (1 hand, 0 negative crop), ``matrix``
  (frame -> crop 2x3).
* :func:`keypoint_examples` - ``(features (21, 2), label index)`` for
  GestureNet, from :func:`handsdk.keypoints.keypoint_features`.

Sources are mixed by weights from a config dict such as
``{"synthetic": 0.7, "asl_letters": 0.3}`` (keys: ``"synthetic"``, a dataset
name, ``"name:split"`` or a folder). Every stream is an endless generator
seeded from ``seed`` (deterministic), wrapped in
``tf.data.Dataset.from_generator`` with an explicit signature, batched
(``drop_remainder`` so shapes are static) and prefetched. Real images are
decoded once, downscaled to ``max_side`` and cached in memory.

Coordinates follow the keypoint convention of the data (pixel i spans
[i, i+1)); images are warped with :func:`augment.warp_image`, which applies
the half-pixel shift OpenCV needs, so keypoints stay on the image content.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from handsdk.image import crop_matrix, letterbox_matrix
from handsdk.keypoints import NUM_KEYPOINTS, keypoint_features, keypoints_box

from .augment import (AugmentConfig, KeypointAugmentConfig, as_augment_config, augment_keypoints, compose,
                      flip_matrix, photometric, random_affine, swap_handedness, transform_boxes,
                      transform_keypoints, warp_image)
from .sample import Sample

HANDEDNESS_INDEX = {"Left": 0, "Right": 1}


# --------------------------------------------------------------------------
# sources


class ListSource:
    """A finite list of samples (a real set). Images are loaded on first use,
    downscaled so that the longer side is at most ``max_side`` (keypoints and
    boxes scaled with them) and kept in memory."""

    def __init__(self, samples: Sequence[Sample], name: str = "", *, max_side: int | None = 320,
                 cache: bool = True, filter: Callable[[Sample], bool] | None = None):
        self.samples = [s for s in samples if filter is None or filter(s)]
        self.name = name or (self.samples[0].source if self.samples else "empty")
        self.max_side = max_side
        self.cache = cache
        self._cache: dict[int, tuple[np.ndarray, float]] = {}

    def __len__(self) -> int:
        return len(self.samples)

    def _image(self, i: int):
        hit = self._cache.get(i)
        if hit is not None:
            return hit
        s = self.samples[i]
        if s.image is not None:
            img = s.image
        else:
            from .real import load_image

            img = load_image(s.path)
        f = 1.0
        if self.max_side and max(img.shape[:2]) > self.max_side:
            import cv2

            f = self.max_side / max(img.shape[:2])
            size = (max(1, round(img.shape[1] * f)), max(1, round(img.shape[0] * f)))
            fx, fy = size[0] / img.shape[1], size[1] / img.shape[0]
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
            f = (fx, fy)
        out = (img, f)
        if self.cache:
            self._cache[i] = out
        return out

    def item(self, i: int, need_image: bool = True) -> Sample:
        s = self.samples[i]
        if not need_image or s.extras.get("has_image") is False:
            return s
        img, f = self._image(i)
        if f == 1.0:
            return dataclasses.replace(s, image=img)
        fx, fy = f
        kp = s.keypoints.copy()
        kp[..., 0] *= fx
        kp[..., 1] *= fy
        boxes = s.boxes * np.array([fx, fy, fx, fy], np.float32)
        return dataclasses.replace(s, image=img, keypoints=kp, boxes=boxes)

    def sample(self, rng: np.random.Generator, need_image: bool = True) -> Sample:
        if not self.samples:
            raise ValueError(f"source {self.name!r} has no samples")
        return self.item(int(rng.integers(len(self.samples))), need_image)

    def __iter__(self):
        return (self.item(i) for i in range(len(self)))


class StreamSource:
    """An endless source: ``fn(rng) -> Sample`` (e.g. the synthetic renderer)."""

    def __init__(self, fn: Callable[[np.random.Generator], Sample], name: str = "stream"):
        self.fn = fn
        self.name = name

    def sample(self, rng: np.random.Generator, need_image: bool = True) -> Sample:
        return self.fn(rng)


def synthetic_source(name: str = "synthetic", **scene_kw) -> StreamSource:
    """The synthetic renderer (:mod:`handsdk.train.synth`) as a source;
    ``scene_kw`` go to its ``SceneConfig``."""
    try:
        from handsdk.train import synth
    except ImportError as e:  # pragma: no cover - depends on the tree
        raise ImportError("the synthetic renderer (handsdk.train.synth) is not available") from e
    if not hasattr(synth, "render_scene"):
        raise ImportError("handsdk.train.synth has no render_scene yet")
    cfg = synth.SceneConfig(**scene_kw)
    return StreamSource(lambda rng: synth.render_scene(rng, cfg), name)


def synthetic_keypoint_source(gesture_set: str, labels: Sequence[str] | None = None, *, noise: float = 6.0,
                              name: str = "synthetic_templates") -> StreamSource:
    """Keypoint-only samples from the renderer's gesture templates (no
    rendering: template pose + joint noise + view, forward kinematics, a
    perspective projection), for :func:`keypoint_examples`."""
    from handsdk.train import synth

    labels = list(labels or synth.GESTURE_SETS[gesture_set])

    def fn(rng):
        label = labels[int(rng.integers(len(labels)))]
        hand = "Left" if rng.random() < 0.5 else "Right"
        shape = synth.HandShape.random(rng, hand)
        pose = synth.pose_from_template(gesture_set, label, rng, noise)
        J = synth.forward_kinematics(shape, pose) @ synth.view_rotation(pose.view, hand).T
        C = J + np.array([0.0, 0.0, rng.uniform(0.3, 0.8)])
        kp = np.ones((NUM_KEYPOINTS, 3), np.float32)
        kp[:, :2] = C[:, :2] / C[:, 2:3]
        return Sample(image=None, keypoints=kp[None], keypoint_source="synthetic", handedness=[hand],
                      label=label, label_set=gesture_set, source=name, extras={"has_image": False})

    return StreamSource(fn, name)


def _is_source(x) -> bool:
    return hasattr(x, "sample") and callable(x.sample)


def build_sources(config, *, root=None, split: str | None = "train", max_side: int | None = 320,
                  filter: Callable[[Sample], bool] | None = None, synthetic: dict | None = None,
                  load_kw: dict | None = None, need_images: bool = True) -> list[tuple[object, float]]:
    """Turn a mixing config into ``[(source, weight)]`` (weights sum to 1).

    ``config``: ``{name: weight}`` where name is ``"synthetic"``, a dataset
    name (loaded with ``split``), ``"name:split"``, or a folder of
    ``<class>/<images>``; or a list of ``(source, weight)`` / sources; values may
    also be source objects with a ``sample(rng)`` method. ``filter`` keeps some
    samples of the real sets.
    """
    from .real import DATASETS, load_dataset

    if _is_source(config):
        config = [(config, 1.0)]
    items = list(config.items()) if isinstance(config, dict) else [
        (c if isinstance(c, tuple) else (c, 1.0)) for c in config]
    out = []
    for key, w in items:
        w = float(w)
        if w < 0:
            raise ValueError(f"negative weight {w} for source {key!r}")
        if w == 0:
            continue
        if _is_source(key):
            src = key
        elif isinstance(key, str) and key.startswith("synthetic_templates:"):
            src = synthetic_keypoint_source(key.split(":", 1)[1], name=key)
        elif key == "synthetic" or (isinstance(key, str) and key.startswith("synthetic:")):
            kw = dict(synthetic or {})
            if ":" in key:
                kw["gesture_set"] = key.split(":", 1)[1]
            src = synthetic_source(key, **kw)
        elif isinstance(key, str):
            name, sp = (key.split(":", 1) + [None])[:2] if ":" in key and key.split(":")[0] in DATASETS \
                else (key, split)
            kw = dict(load_kw or {})
            if name in DATASETS and name != "gesture_keypoints_csv":
                kw.setdefault("load_image", False)  # loaded lazily by ListSource
            if name == "gesture_keypoints_csv":
                kw = {k: v for k, v in kw.items() if k not in ("load_image",)}
                sp = sp if ":" in key else None
            if name not in DATASETS and Path(name).expanduser().is_dir():
                sp = None
            samples = load_dataset(name, sp, root, **kw)
            src = ListSource(samples, key, max_side=max_side, filter=filter)
            if len(src) == 0:
                raise ValueError(f"source {key!r} has no usable samples for this pipeline")
        else:
            raise TypeError(f"cannot make a source of {key!r}")
        out.append((src, w))
    if not out:
        raise ValueError("no sources with a positive weight")
    total = sum(w for _, w in out)
    return [(s, w / total) for s, w in out]


def _sources(sources, **kw):
    if isinstance(sources, list) and sources and all(isinstance(t, tuple) and _is_source(t[0]) for t in sources):
        total = sum(w for _, w in sources)
        return [(s, w / total) for s, w in sources]
    return build_sources(sources, **kw)


def _pick(rng, sources):
    w = np.array([w for _, w in sources], np.float64)
    i = int(rng.choice(len(sources), p=w / w.sum())) if len(sources) > 1 else 0
    return i, sources[i][0]


# --------------------------------------------------------------------------
# per-hand arrays


def hand_arrays(sample: Sample):
    """(keypoints (N, 21, 3) with -1 for hands without keypoints, boxes (N, 4),
    handedness index (N,), box_from_keypoints (N,) bool)."""
    n = sample.num_hands
    kp = np.zeros((n, NUM_KEYPOINTS, 3), np.float32)
    kp[..., 2] = -1.0
    kp[: len(sample.keypoints)] = sample.keypoints[:n]
    human_boxes = "box_classes" in sample.extras
    boxes = np.zeros((n, 4), np.float32)
    from_kp = np.zeros(n, bool)
    for i in range(n):
        has_kp = (kp[i, :, 2] > 0).sum() >= 2
        if i < len(sample.boxes) and (human_boxes or not has_kp):
            boxes[i] = sample.boxes[i]
        elif has_kp:
            boxes[i] = keypoints_box(kp[i], kp[i, :, 2])
            from_kp[i] = True
        elif i < len(sample.boxes):
            boxes[i] = sample.boxes[i]
    hd = np.full(n, -1, np.int32)
    for i, h in enumerate(list(sample.handedness)[:n]):
        hd[i] = HANDEDNESS_INDEX.get(h, -1)
    return kp, boxes, hd, from_kp


def has_reliable_hands(sample: Sample) -> bool:
    """Samples usable for detector/crop training: hands labelled (human or
    found by MediaPipe, or YOLO boxes) - images where MediaPipe found nothing
    may still show a hand and are left out - or a 'nothing' image."""
    return (sample.num_hands > 0 or sample.label == "nothing" or bool(sample.extras.get("hand_free"))
            or sample.keypoint_source == "synthetic")


def _exhaustive(sample: Sample) -> bool:
    """Every hand in the image is labelled (synthetic scenes, 'nothing' images)."""
    return (sample.keypoint_source == "synthetic" or sample.label == "nothing"
            or bool(sample.extras.get("hand_free")))


# --------------------------------------------------------------------------
# frames


def frame_example(sample: Sample, input_size, rng: np.random.Generator, augment=True, *,
                  max_hands: int = 2, min_visible_fraction: float = 0.25) -> dict:
    """One letterboxed (and augmented) frame example as numpy arrays."""
    cfg = as_augment_config(augment)
    h, w = int(input_size[0]), int(input_size[1])
    img = sample.image
    if img is None:
        raise ValueError(f"sample {sample.path!r} has no image")
    m = letterbox_matrix(img.shape[:2], (h, w))
    aug, flipped = random_affine(rng, (h, w), cfg)
    m = compose(aug, m)
    out_img = warp_image(img, m, (h, w))
    out_img = photometric(out_img, rng, cfg)
    kp, boxes, hd, from_kp = hand_arrays(sample)
    kp_t = transform_keypoints(m, kp, (h, w))
    boxes_t = transform_boxes(m, boxes)
    for i in np.nonzero(from_kp)[0]:
        vis = kp[i, :, 2] > 0
        boxes_t[i] = keypoints_box(apply_kp(m, kp[i]), vis)
    if flipped:
        hd = np.where(hd >= 0, 1 - hd, hd).astype(np.int32)
    keep = []
    for i, b in enumerate(boxes_t):
        area = max(b[2] - b[0], 0) * max(b[3] - b[1], 0)
        cb = np.clip(b, [0, 0, 0, 0], [w, h, w, h])
        carea = max(cb[2] - cb[0], 0) * max(cb[3] - cb[1], 0)
        if area > 0 and carea >= min_visible_fraction * area and min(cb[2] - cb[0], cb[3] - cb[1]) >= 2:
            boxes_t[i] = cb
            keep.append(i)
    keep = keep[:max_hands]
    K = np.zeros((max_hands, NUM_KEYPOINTS, 3), np.float32)
    K[..., 2] = -1.0
    B = np.zeros((max_hands, 4), np.float32)
    H = np.full(max_hands, -1, np.int32)
    for j, i in enumerate(keep):
        K[j], B[j], H[j] = kp_t[i], boxes_t[i], hd[i]
    return {"image": out_img.astype(np.float32) / 255.0, "keypoints": K, "boxes": B, "handedness": H,
            "num_hands": np.int32(len(keep))}


def apply_kp(m, kp):
    from handsdk.image import apply_affine

    return apply_affine(m, kp).astype(np.float32)


def frame_generator(sources, input_size=(192, 192), *, max_hands: int = 2, augment=True, seed: int = 0,
                    num_examples: int | None = None, **source_kw) -> Iterator[dict]:
    """Endless (or ``num_examples``) numpy frame examples from weighted sources."""
    source_kw.setdefault("filter", has_reliable_hands)
    srcs = _sources(sources, **source_kw)
    rng = np.random.default_rng(seed)
    n = 0
    while num_examples is None or n < num_examples:
        si, src = _pick(rng, srcs)
        s = src.sample(rng, True)
        if s.image is None:
            continue
        ex = frame_example(s, input_size, rng, augment, max_hands=max_hands)
        ex["source_index"] = np.int32(si)
        yield ex
        n += 1


def frame_signature(input_size, max_hands: int = 2):
    from handsdk.train.tf import tf

    h, w = input_size
    return {
        "image": tf.TensorSpec((h, w, 3), tf.float32),
        "keypoints": tf.TensorSpec((max_hands, NUM_KEYPOINTS, 3), tf.float32),
        "boxes": tf.TensorSpec((max_hands, 4), tf.float32),
        "handedness": tf.TensorSpec((max_hands,), tf.int32),
        "num_hands": tf.TensorSpec((), tf.int32),
        "source_index": tf.TensorSpec((), tf.int32),
    }


# --------------------------------------------------------------------------
# crops


@dataclasses.dataclass
class CropConfig:
    size: int = 128
    scale: float = 1.4                  # the runtime's crop_scale
    scale_jitter: float = 0.15          # log-uniform +-
    shift_jitter: float = 0.08          # fraction of the box side
    rotation_deg: float = 25.0          # rotation jitter of crop_matrix
    negative_rate: float = 0.1          # fraction of presence-0 crops
    min_visible: int = 6                # keypoints a hand needs to be cropped


def crop_example(sample: Sample, cfg: CropConfig, rng: np.random.Generator, augment=True,
                 hand: int | None = None) -> dict | None:
    """One hand crop, or None when the sample has no hand with keypoints."""
    acfg = as_augment_config(augment)
    img = sample.image
    kp, boxes, hd, _ = hand_arrays(sample)
    ok = [i for i in range(len(kp)) if (kp[i, :, 2] > 0).sum() >= cfg.min_visible]
    if img is None or not ok:
        return None
    i = ok[int(rng.integers(len(ok)))] if hand is None else hand
    box = keypoints_box(kp[i], kp[i, :, 2])
    side = max(box[2] - box[0], box[3] - box[1], 1.0)
    if augment is not False and augment is not None:
        shift = rng.uniform(-cfg.shift_jitter, cfg.shift_jitter, 2) * side
        box = box + np.array([shift[0], shift[1], shift[0], shift[1]], np.float32)
        scale = cfg.scale * float(np.exp(rng.uniform(-cfg.scale_jitter, cfg.scale_jitter)))
        rot = float(np.deg2rad(rng.uniform(-cfg.rotation_deg, cfg.rotation_deg)))
        flipped = bool(acfg.flip_prob and rng.random() < acfg.flip_prob)
    else:
        scale, rot, flipped = cfg.scale, 0.0, False
    m = crop_matrix(box, cfg.size, scale=scale, rotation=rot)
    if flipped:
        m = compose(flip_matrix(cfg.size), m)
    crop = photometric(warp_image(img, m, (cfg.size, cfg.size)), rng, acfg)
    k = transform_keypoints(m, kp[i], (cfg.size, cfg.size))
    h = int(hd[i])
    if flipped and h >= 0:
        h = 1 - h
    return {"image": crop.astype(np.float32) / 255.0, "keypoints": k, "handedness": np.int32(h),
            "presence": np.float32(1.0), "matrix": m.astype(np.float32)}


def _overlaps(box, boxes, margin=0.15):
    for b in boxes:
        mx = (b[2] - b[0]) * margin
        my = (b[3] - b[1]) * margin
        if box[0] < b[2] + mx and box[2] > b[0] - mx and box[1] < b[3] + my and box[3] > b[1] - my:
            return True
    return False


def negative_crop(sample: Sample, cfg: CropConfig, rng: np.random.Generator, augment=True,
                  tries: int = 12) -> dict | None:
    """A crop of a region with no labelled hand (presence 0), or None."""
    img = sample.image
    if img is None:
        return None
    if sample.num_hands == 0 and not _exhaustive(sample):
        return None  # MediaPipe found nothing, but a hand may be there
    acfg = as_augment_config(augment)
    h, w = img.shape[:2]
    _, boxes, _, _ = hand_arrays(sample)
    for _ in range(tries):
        side = rng.uniform(0.12, 0.45) * min(h, w)
        cx, cy = rng.uniform(side / 2, w - side / 2), rng.uniform(side / 2, h - side / 2)
        box = np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], np.float32)
        full = box.copy()
        half = side * cfg.scale / 2
        full[:] = [cx - half, cy - half, cx + half, cy + half]
        if _overlaps(full, boxes):
            continue
        rot = float(np.deg2rad(rng.uniform(-cfg.rotation_deg, cfg.rotation_deg)))
        m = crop_matrix(box, cfg.size, scale=cfg.scale, rotation=rot)
        crop = photometric(warp_image(img, m, (cfg.size, cfg.size)), rng, acfg)
        k = np.zeros((NUM_KEYPOINTS, 3), np.float32)
        k[:, 2] = -1.0
        return {"image": crop.astype(np.float32) / 255.0, "keypoints": k, "handedness": np.int32(-1),
                "presence": np.float32(0.0), "matrix": m.astype(np.float32)}
    return None


def crop_generator(sources, cfg: CropConfig | None = None, *, augment=True, seed: int = 0,
                   negative_sources=None, num_examples: int | None = None, **source_kw) -> Iterator[dict]:
    """Endless hand crops (and ``cfg.negative_rate`` negative crops, from
    ``negative_sources`` - e.g. hand-free synthetic scenes - or else from
    hand-free regions of the positive sources' images)."""
    cfg = cfg or CropConfig()
    source_kw.setdefault("filter", has_reliable_hands)
    srcs = _sources(sources, **source_kw)
    neg = _sources(negative_sources, **source_kw) if negative_sources is not None else srcs
    rng = np.random.default_rng(seed)
    n = 0
    misses = 0
    negative = None
    while num_examples is None or n < num_examples:
        if negative is None:  # keep the decision until an example of that kind is made
            negative = bool(cfg.negative_rate > 0 and rng.random() < cfg.negative_rate)
        si, src = _pick(rng, neg if negative else srcs)
        s = src.sample(rng, True)
        ex = negative_crop(s, cfg, rng, augment) if negative else crop_example(s, cfg, rng, augment)
        if ex is None:
            misses += 1
            if misses > 1000:
                raise RuntimeError("1000 samples in a row gave no crop: do the sources have hands with "
                                   "keypoints (or hand-free regions for negatives)?")
            continue
        misses = 0
        negative = None
        ex["source_index"] = np.int32(si)
        yield ex
        n += 1


def crop_signature(size: int):
    from handsdk.train.tf import tf

    return {
        "image": tf.TensorSpec((size, size, 3), tf.float32),
        "keypoints": tf.TensorSpec((NUM_KEYPOINTS, 3), tf.float32),
        "handedness": tf.TensorSpec((), tf.int32),
        "presence": tf.TensorSpec((), tf.float32),
        "matrix": tf.TensorSpec((2, 3), tf.float32),
        "source_index": tf.TensorSpec((), tf.int32),
    }


# --------------------------------------------------------------------------
# keypoints -> gestures


def keypoint_example(sample: Sample, classes: Sequence[str], rng: np.random.Generator,
                     augment=True, hand: int = 0):
    """(features (21, 2), label index) or None when the sample has no usable
    hand or its label is not in ``classes``."""
    label = sample.label
    if label is None and "hand_labels" in sample.extras:  # synthetic scenes label each hand
        labels = list(sample.extras["hand_labels"])
        label = labels[hand] if hand < len(labels) else None
    if label not in classes or len(sample.keypoints) <= hand:
        return None
    kp = sample.keypoints[hand]
    if (kp[:, 2] < 0).any():
        return None
    h = sample.handedness[hand] if hand < len(sample.handedness) else None
    if augment is True or augment is None:
        acfg = KeypointAugmentConfig() if augment else KeypointAugmentConfig.none()
    elif augment is False:
        acfg = KeypointAugmentConfig.none()
    else:
        acfg = augment
    xy, h = augment_keypoints(kp, rng, acfg, h)
    return keypoint_features(xy, h), np.int32(list(classes).index(label))


def keypoint_generator(sources, classes: Sequence[str], *, augment=True, seed: int = 0,
                       num_examples: int | None = None, **source_kw) -> Iterator[tuple]:
    """Endless (features, label) pairs from landmark CSVs, pseudo-labelled
    images (no pixels are read) and the synthetic renderer."""
    classes = list(classes)
    cls = set(classes)
    source_kw.setdefault("filter", lambda s: s.label in cls and len(s.keypoints) > 0)
    source_kw.setdefault("need_images", False)
    srcs = _sources(sources, **source_kw)
    rng = np.random.default_rng(seed)
    n, misses = 0, 0
    while num_examples is None or n < num_examples:
        _, src = _pick(rng, srcs)
        s = src.sample(rng, False)
        ex = keypoint_example(s, classes, rng, augment)
        if ex is None:
            misses += 1
            if misses > 1000:
                raise RuntimeError(f"1000 samples in a row had no hand labelled with one of {classes}")
            continue
        misses = 0
        yield ex
        n += 1


def keypoint_signature():
    from handsdk.train.tf import tf

    return (tf.TensorSpec((NUM_KEYPOINTS, 2), tf.float32), tf.TensorSpec((), tf.int32))


def keypoint_arrays(samples: Iterable[Sample], classes: Sequence[str], *, handed: bool = True):
    """All (features, labels) of a finite sample list without augmentation
    (evaluation / held-out authors)."""
    classes = list(classes)
    feats, labels = [], []
    for s in samples:
        if s.label in classes and len(s.keypoints) and not (s.keypoints[0, :, 2] < 0).any():
            h = s.handedness[0] if (handed and s.handedness) else None
            feats.append(keypoint_features(s.keypoints[0], h))
            labels.append(classes.index(s.label))
    return (np.asarray(feats, np.float32).reshape(-1, NUM_KEYPOINTS, 2), np.asarray(labels, np.int32))


# --------------------------------------------------------------------------
# tf.data wrappers


def _dataset(gen_fn: Callable[[int], Iterator], signature, *, batch_size: int | None, seed: int,
             num_parallel: int = 1, drop_remainder: bool = True, prefetch: bool = True):
    from handsdk.train.tf import tf

    if num_parallel <= 1:
        ds = tf.data.Dataset.from_generator(lambda: gen_fn(seed), output_signature=signature)
    else:
        def shard(i):
            return tf.data.Dataset.from_generator(lambda k: gen_fn(seed * 1009 + int(k)),
                                                  output_signature=signature, args=(i,))

        ds = tf.data.Dataset.range(num_parallel).interleave(
            shard, cycle_length=num_parallel, block_length=1, num_parallel_calls=num_parallel,
            deterministic=True)
    if batch_size:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    return ds


def frame_examples(sources, input_size=(192, 192), *, batch_size: int | None = 32, max_hands: int = 2,
                   augment=True, seed: int = 0, num_examples: int | None = None, num_parallel: int = 1,
                   **source_kw):
    """tf.data of letterboxed full frames for the detector (see module doc)."""
    srcs = _sources(sources, **{**{"filter": has_reliable_hands}, **source_kw})
    return _dataset(lambda sd: frame_generator(srcs, input_size, max_hands=max_hands, augment=augment, seed=sd,
                                               num_examples=num_examples),
                    frame_signature(tuple(input_size), max_hands), batch_size=batch_size, seed=seed,
                    num_parallel=num_parallel, drop_remainder=num_examples is None)


def crop_examples(sources, crop: CropConfig | dict | int | None = None, *, batch_size: int | None = 32,
                  augment=True, seed: int = 0, negative_sources=None, num_examples: int | None = None,
                  num_parallel: int = 1, **source_kw):
    """tf.data of single-hand crops (+ negatives) for the landmarker."""
    cfg = crop if isinstance(crop, CropConfig) else (
        CropConfig(size=crop) if isinstance(crop, int) else CropConfig(**(crop or {})))
    srcs = _sources(sources, **{**{"filter": has_reliable_hands}, **source_kw})
    negs = _sources(negative_sources, **{**{"filter": has_reliable_hands}, **source_kw}) \
        if negative_sources is not None else None
    return _dataset(lambda sd: crop_generator(srcs, cfg, augment=augment, seed=sd, negative_sources=negs,
                                              num_examples=num_examples),
                    crop_signature(cfg.size), batch_size=batch_size, seed=seed, num_parallel=num_parallel,
                    drop_remainder=num_examples is None)


def keypoint_examples(sources, classes: Sequence[str], *, batch_size: int | None = 256, augment=True,
                      seed: int = 0, num_examples: int | None = None, **source_kw):
    """tf.data of (features (21, 2), label) for GestureNet."""
    classes = list(classes)
    cls = set(classes)
    kw = {"filter": lambda s: s.label in cls and len(s.keypoints) > 0, "need_images": False, **source_kw}
    srcs = _sources(sources, **kw)
    return _dataset(lambda sd: keypoint_generator(srcs, classes, augment=augment, seed=sd,
                                                  num_examples=num_examples),
                    keypoint_signature(), batch_size=batch_size, seed=seed,
                    drop_remainder=num_examples is None)


__all__ = [
    "ListSource", "StreamSource", "synthetic_source", "synthetic_keypoint_source", "build_sources", "hand_arrays", "has_reliable_hands",
    "frame_example", "frame_generator", "frame_signature", "frame_examples", "CropConfig", "crop_example",
    "negative_crop", "crop_generator", "crop_signature", "crop_examples", "keypoint_example",
    "keypoint_generator", "keypoint_signature", "keypoint_examples", "keypoint_arrays", "AugmentConfig",
    "KeypointAugmentConfig",
]
