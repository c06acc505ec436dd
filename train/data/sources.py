"""The training sources: named sources in (``SourceConfig.name``), the one
:class:`~handsdk.train.data.sample.Sample` record out, mixed by weight
(:func:`mixed_samples`); each model's ``examples.pools`` then makes its
in-memory examples with the runtime's own crop rule
(``handsdk.train.models.<name>.examples``).

Sources (``SourceConfig.name``):

* ``toy``: tiny generated hands (a stick hand drawn with OpenCV), no other
  dependency: used by the tests and smoke configs;
* ``synth``: the synthetic renderer ``handsdk.train.synth.render_scene``;
* ``real:<set>[/<split>]``: a shared real set via ``handsdk.train.data.registry``;
* ``csv:<folder>``: gesture keypoint CSVs via ``handsdk.train.data.real``;
* ``gestures:commands``: one-hand command keypoints of every real source
  (CSV authors and photo sets) mapped onto the commands set by pose, resampled
  class- and source-balanced (``handsdk.train.data.gestures``);
* ``pipeline:<set>[/<split>]``: a real set whose keypoints are the SDK's own
  (a bundle's detector + landmarker run over the images, as at runtime), so
  a GestureNet learns the keypoints it will be fed; the bundle comes from the
  source's ``bundle`` option or ``data.pipeline``. Results are cached.

Endless streams for previews and custom training: :func:`synthetic_source`
(rendered scenes) and :func:`synthetic_keypoint_source` (keypoint-only
gesture templates), objects with ``sample(rng)``.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handsdk.keypoints import FINGERS, HAND_CONNECTIONS, keypoints_box
from handsdk.train.data.sample import Sample

# ---------------------------------------------------------------- toy hands

# a right hand, palm to the camera, fingers up, in palm units (wrist at 0, 0)
_MCP = np.array([[0.22, -0.25], [0.32, -0.95], [0.08, -1.0], [-0.15, -0.95], [-0.36, -0.85]], np.float32)
_SEG = np.array([[0.35, 0.3, 0.28], [0.45, 0.28, 0.22], [0.5, 0.3, 0.23],
                 [0.46, 0.28, 0.22], [0.36, 0.22, 0.2]], np.float32)
_DIR = np.array([[0.8, -0.6], [0.08, -1.0], [0.0, -1.0], [-0.08, -1.0], [-0.2, -1.0]], np.float32)

#: toy gesture classes: per-finger curl (thumb .. pinky), NaN = random
TOY_GESTURES = {
    "none": [np.nan] * 5,
    "open": [0, 0, 0, 0, 0],
    "fist": [1, 1, 1, 1, 1],
    "point": [1, 0, 1, 1, 1],
    "victory": [1, 0, 0, 1, 1],
    "thumb_up": [0, 1, 1, 1, 1],
}


def toy_hand(rng, curls=None) -> np.ndarray:
    """(21, 2) keypoints of a right hand in palm units (palm ~1 tall)."""
    if curls is None:
        curls = rng.uniform(0, 1, 5)
    curls = np.array([rng.uniform(0, 1) if np.isnan(c) else c for c in np.asarray(curls, np.float64)])
    curls = np.clip(curls + rng.normal(0, 0.08, 5), 0, 1)
    kp = np.zeros((21, 2), np.float32)
    for f, chain in enumerate(FINGERS):
        p = _MCP[f] + rng.normal(0, 0.03, 2)
        kp[chain[1]] = p
        d = _DIR[f] / np.linalg.norm(_DIR[f])
        ang = 0.0
        for j, idx in enumerate(chain[2:]):
            ang += curls[f] * (1.3 if j else 1.0) * (math.pi / 2.2)
            # curling toward the palm: foreshortened and folding back past 90 degrees
            step = _SEG[f, j] * math.cos(ang)
            side = rng.normal(0, 0.02)
            p = p + d * step + np.array([-d[1], d[0]]) * side
            kp[idx] = p
    return kp


def _draw_hand(img, kp, skin, width):
    import cv2

    palm = kp[[0, 1, 5, 9, 13, 17]].astype(np.int32)
    cv2.fillConvexPoly(img, cv2.convexHull(palm), skin, lineType=cv2.LINE_AA)
    for a, b in HAND_CONNECTIONS:
        cv2.line(img, tuple(int(v) for v in kp[a]), tuple(int(v) for v in kp[b]), skin,
                 max(1, int(width)), lineType=cv2.LINE_AA)
    for p in kp:
        cv2.circle(img, (int(p[0]), int(p[1])), max(1, int(width * 0.6)), skin, -1, lineType=cv2.LINE_AA)


def toy_sample(rng, size=(96, 96), hands: int | None = None, label: str | None = None) -> Sample:
    """A tiny synthetic scene: noisy background, 0-1 stick hands (random
    rotation, scale, handedness)."""
    h, w = size
    img = np.empty((h, w, 3), np.uint8)
    img[:] = rng.integers(0, 256, 3)
    img = np.clip(img.astype(np.int16) + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)
    if hands is None:
        hands = int(rng.random() > 0.1)
    kps, boxes, hands_lr = [], [], []
    for _ in range(hands):
        curls = TOY_GESTURES[label] if label else None
        kp = toy_hand(rng, curls)
        right = bool(rng.random() < 0.5)
        if not right:
            kp[:, 0] = -kp[:, 0]
        ang = rng.uniform(-0.6, 0.6)
        c, s = math.cos(ang), math.sin(ang)
        kp = kp @ np.array([[c, s], [-s, c]], np.float32)
        scale = rng.uniform(0.25, 0.45) * min(h, w) / 1.6
        kp = kp * scale
        lo, hi = kp.min(0), kp.max(0)
        off = np.array([rng.uniform(-lo[0] + 1, max(w - hi[0] - 1, -lo[0] + 2)),
                        rng.uniform(-lo[1] + 1, max(h - hi[1] - 1, -lo[1] + 2))])
        kp = kp + off
        skin = tuple(int(v) for v in rng.integers(60, 255, 3))
        _draw_hand(img, kp, skin, scale * 0.16)
        kps.append(np.concatenate([kp, np.ones((21, 1), np.float32)], 1))
        boxes.append(keypoints_box(kp))
        hands_lr.append("Right" if right else "Left")
    return Sample(image=img, boxes=np.array(boxes, np.float32).reshape(-1, 4),
                  keypoints=np.array(kps, np.float32).reshape(-1, 21, 3), keypoint_source="synthetic",
                  handedness=hands_lr, label=label, label_set="toy", source="toy")


# ---------------------------------------------------------------- sources


@dataclass
class KeypointRows:
    """Keypoint-only data: features (N, 21, 2), labels (N,) strings, groups
    (N,) e.g. author (for held-out splits)."""

    features: np.ndarray
    labels: np.ndarray
    groups: np.ndarray


def iter_source(src, rng, count: int, *, root=None, task: str = "detector", size=(96, 96), pipeline=None,
                teacher=None):
    """Up to ``count`` :class:`Sample` objects of one source. ``teacher``
    ({sample key: hands}, :func:`handsdk.train.data.teacher.load`): the
    teacher's hands join a real set's samples before they are filtered (a
    frame whose boxed hands MediaPipe missed is then no longer dropped)."""
    name = src.name
    opts = dict(src.options)
    if name.startswith("pipeline:"):
        bundle = opts.pop("bundle", None) or pipeline
        if not bundle:
            raise ValueError(f"source {name!r} needs a bundle to run: set data.pipeline (or the source's "
                             f"options.bundle) to a .handsdk file with a detector and a landmarker")
        from handsdk.train.data import registry

        set_name, _, split = name[9:].partition("/")
        if set_name == "synth":  # rendered gestures (e.g. commands), images at camera-like size
            opts.setdefault("size", (240, 320))
            rendered = iter_source(_Source("synth", dict(opts, max_hands=1, p_no_hand=0.0)), rng, count,
                                   task="gesture", size=opts["size"])
            yield from pipeline_keypoints([s for s in rendered if s.label is not None], bundle)
            return
        samples = list(registry.load_dataset(set_name, split or None, root, **opts))
        samples = [s for s in samples if s.label is not None]
        order = rng.permutation(len(samples))[:count]
        yield from pipeline_keypoints([samples[int(i)] for i in order], bundle)
        return
    if name.startswith("gestures:"):  # command keypoints of every real source, mapped by pose
        from handsdk.train.data import gestures

        yield from gestures.gesture_source_samples(name[9:], opts, rng, root, bundle=pipeline)[:count]
        return
    if name == "toy":
        r = np.random.default_rng(opts.get("seed", rng.integers(1 << 30)))
        labels = opts.get("labels")
        for i in range(count):
            label = labels[i % len(labels)] if labels else None
            yield toy_sample(r, tuple(opts.get("size", size)), label=label,
                             hands=None if task != "gesture" else 1)
        return
    if name == "synth":
        from handsdk.train import synth  # the synthetic renderer (helper "synth")

        render = getattr(synth, "render_scene", None)
        scene_cfg = getattr(synth, "SceneConfig", None)
        if render is None:
            from handsdk.train.synth import scene as _scene

            render, scene_cfg = _scene.render_scene, _scene.SceneConfig
        r = np.random.default_rng(opts.pop("seed", rng.integers(1 << 30)))
        opts.setdefault("size", tuple(size))
        opts.setdefault("labels", False)  # targets are rendered by the trainer
        if task == "gesture":
            opts.setdefault("max_hands", 1)
            opts.setdefault("p_no_hand", 0.0)
        if "size" in opts:
            opts["size"] = tuple(opts["size"])
        scfg = scene_cfg(**opts)
        for _ in range(count):
            smp = render(r, scfg)
            if task == "gesture" and smp.label is None:
                continue
            yield smp
        return
    if name.startswith("real:"):
        from handsdk.train.data import registry
        from handsdk.train.data.formats import ensure_image

        set_name, _, split = name[5:].partition("/")
        need_kp = bool(opts.pop("require_keypoints", task != "detector_eval"))
        samples = list(registry.load_dataset(set_name, split or None, root, **opts))
        order = rng.permutation(len(samples))
        n = 0
        for i in order:
            smp = samples[int(i)]
            if teacher:
                from handsdk.train.data.teacher import merge

                merge([smp], teacher)
            if need_kp and smp.image is not None and smp.num_hands and not len(smp.keypoints):
                continue  # a hand without keypoints (MediaPipe missed it): no target
            mb = smp.extras.get("missed_boxes")
            if need_kp and task in ("detector", "pose") and mb is not None and len(mb):
                continue  # people drew a hand MediaPipe did not label: it would train as background
            if smp.image is None and smp.path and task != "gesture":
                smp = ensure_image(smp)
            yield smp
            n += 1
            if n >= count:
                return
        return
    raise ValueError(f"unknown data source {name!r} (toy, synth, real:<set>[/<split>], csv:<folder>, "
                     f"pipeline:<set>[/<split>])")


@dataclass
class _Source:  # a source spec made in code (the config's SourceConfig shape)
    name: str
    options: dict


def _pipeline_cache(bundle) -> Path:
    import hashlib

    digest = hashlib.sha256(Path(bundle).read_bytes()).hexdigest()[:16]
    base = Path(os.environ.get("HANDSDK_CACHE", Path.home() / ".cache" / "handsdk"))
    return base / "pipeline_keypoints" / f"{digest}.json"


def pipeline_keypoints(samples, bundle) -> list[Sample]:
    """The samples with their keypoints replaced by what ``bundle``'s
    detector + landmarker find on the image (IMAGE mode, as at runtime): the
    largest hand found; when the detector finds none, the landmarker on the
    labelled box. Samples with neither are dropped. Cached per bundle hash."""
    import json

    from handsdk import GestureRecognizer, GestureRecognizerOptions
    from handsdk.stages import HandLandmarker
    from handsdk.train.data.formats import ensure_image

    bundle = Path(bundle)
    if not bundle.is_file():
        raise FileNotFoundError(f"pipeline bundle not found: {bundle}")
    cache_path = _pipeline_cache(bundle)
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    out, dirty = [], False
    rec = lm = None
    for s in samples:
        key = s.path or None
        hit = cache.get(key) if key else None
        if hit is None:
            if rec is None:
                rec = GestureRecognizer(GestureRecognizerOptions(bundle=str(bundle), color_order="RGB", max_hands=2))
                lm = HandLandmarker(str(bundle), color_order="RGB")
            s = ensure_image(s) if s.image is None else s
            if s.image is None:
                continue
            res = rec.recognize(s.image)
            if res.hands:
                h = max(res.hands, key=lambda h: float(np.prod(h.box[2:] - h.box[:2])))
                hit = {"kp": np.asarray(h.keypoints[:, :2]).round(2).tolist(), "hand": h.handedness.name,
                       "from": "detector"}
            elif len(s.boxes):
                r = lm.landmark_rgb(s.image, s.boxes[0])
                hit = {"kp": np.asarray(r.keypoints[:, :2]).round(2).tolist(),
                       "hand": "Right" if r.right_score >= 0.5 else "Left", "from": "box"}
            else:
                hit = {}
            if key:
                cache[key] = hit
                dirty = True
        if not hit:
            continue
        kp = np.concatenate([np.array(hit["kp"], np.float32), np.ones((21, 1), np.float32)], axis=1)
        out.append(Sample(image=None, boxes=np.array([keypoints_box(kp)], np.float32), keypoints=kp[None],
                          keypoint_source="pipeline", handedness=[hit["hand"]], label=s.label,
                          label_set=s.label_set, source=s.source, path=s.path))
    if rec is not None:
        rec.close()
    if dirty:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache))
        os.replace(tmp, cache_path)
    return out


def mixed_samples(sources, rng, total: int, **kw) -> list[Sample]:
    """``total`` samples mixed from ``sources`` by weight. Finite sources
    (real sets) give what they have (``limit`` caps them); generated ones
    fill their share."""
    weights = np.array([max(s.weight, 0.0) for s in sources], np.float64)
    if weights.sum() <= 0:
        weights[:] = 1.0
    shares = np.floor(weights / weights.sum() * total).astype(int)
    shares[0] += total - shares.sum()
    out = []
    for s, n in zip(sources, shares):
        if s.name.startswith(("real:", "pipeline:", "gestures:")) and s.name != "pipeline:synth":
            n = s.limit if s.limit is not None else 10 ** 9  # a real set gives what it has
        elif s.limit is not None:
            n = min(n, s.limit)
        n = int(n)
        if n <= 0:
            continue
        out.extend(iter_source(s, rng, n, **kw))
    return out


# ---------------------------------------------------------------- streams


class StreamSource:
    """An endless source: ``fn(rng) -> Sample`` (e.g. the synthetic renderer)."""

    def __init__(self, fn, name: str = "stream"):
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


def synthetic_keypoint_source(gesture_set: str, labels=None, *, noise: float = 6.0,
                              name: str = "synthetic_templates") -> StreamSource:
    """Keypoint-only samples from the renderer's gesture templates
    (:func:`handsdk.train.synth.template_hands`: template pose + joint noise +
    view, forward kinematics, a perspective projection; nothing rendered),
    e.g. for a gesture pool."""
    from handsdk.train import synth

    labels = list(labels or synth.GESTURE_SETS[gesture_set])

    def fn(rng):
        label = labels[int(rng.integers(len(labels)))]
        kp, hands = synth.template_hands(gesture_set, [label], rng, noise)
        return Sample(image=None, keypoints=kp, keypoint_source="synthetic", handedness=hands,
                      label=label, label_set=gesture_set, source=name, extras={"has_image": False})

    return StreamSource(fn, name)


__all__ = ["TOY_GESTURES", "toy_hand", "toy_sample", "KeypointRows", "iter_source",
           "pipeline_keypoints", "mixed_samples", "StreamSource", "synthetic_source",
           "synthetic_keypoint_source"]
